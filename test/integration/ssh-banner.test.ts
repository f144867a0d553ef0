import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI, MuxSandbox } from './mux-helpers.js';

/**
 * The server's pre-authentication banner (sshd's Banner), printed on stderr as ssh prints it:
 * once, with control characters escaped, not with -q; in-process and relayed by the daemon.
 */
describe('the server banner, as ssh shows it', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  beforeAll(async () => {
    sshd = await startSshd({ sshdOptions: ['Banner=/etc/ssh/sshmux-banner'] });
    // sshd reads the file at every connection: an ESC and a bell must not reach the terminal raw.
    await sshd.exec([
      'sh',
      '-c',
      "printf 'Authorised use only.\\n\\033[31mred\\007\\tend\\n' > /etc/ssh/sshmux-banner",
    ]);
    box = new MuxSandbox(sshd);
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  function run(client: 'openssh' | 'daemon' | 'direct', extra: string[] = []) {
    const args = ['-F', 'none', ...extra, ...box.sshArgs('backup'), 'echo ran'];
    const [file, argv, env] =
      client === 'openssh'
        ? ['/usr/bin/ssh', args, process.env]
        : [
            process.execPath,
            [CLI, 'ssh', ...args],
            box.env(client === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {}),
          ];
    return runProgram(file, argv, { env }).then((r) => ({
      code: r.code,
      stdout: r.stdout.toString(),
      stderr: r.stderr,
    }));
  }

  it('is printed on stderr, control characters escaped, by every client alike', async () => {
    const ssh = await run('openssh');
    expect(ssh.stderr).toBe('Authorised use only.\n\\033[31mred\\007\tend\n');
    for (const client of ['direct', 'daemon'] as const) {
      await box.cleanup();
      box = new MuxSandbox(sshd);
      const ours = await run(client);
      expect({ client, ...ours }).toEqual({ client, ...ssh });
    }
  });

  it('-q and LogLevel=ERROR silence it, as in ssh', async () => {
    for (const extra of [['-q'], ['-o', 'LogLevel=ERROR']]) {
      const ssh = await run('openssh', extra);
      expect(ssh.stderr).toBe('');
      await box.cleanup();
      box = new MuxSandbox(sshd);
      expect((await run('daemon', extra)).stderr).toBe('');
      expect((await run('direct', extra)).stderr).toBe('');
    }
  });

  it('with remote forwards (requested before the session) it is still printed once', async () => {
    const extra = ['-R', '0:127.0.0.1:9', '-R', '0:127.0.0.1:10'];
    const ports = (t: string) => t.replace(/Allocated port \d+/g, 'Allocated port N');
    const ssh = await run('openssh', extra);
    expect(ports(ssh.stderr)).toBe(
      'Authorised use only.\n\\033[31mred\\007\tend\n' +
        'Allocated port N for remote forward to 127.0.0.1:9\r\nAllocated port N for remote forward to 127.0.0.1:10\r\n',
    );
    for (const client of ['direct', 'daemon'] as const) {
      await box.cleanup();
      box = new MuxSandbox(sshd);
      const ours = await run(client, extra);
      expect({ client, ...ours, stderr: ports(ours.stderr) }).toEqual({
        client,
        ...ssh,
        stderr: ports(ssh.stderr),
      });
    }
  });
});
