import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

describe('sshmux ssh (in-process, no daemon)', () => {
  let sshd: StartedSshd;
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    sshd = await startSshd();
    // An empty HOME: no ~/.ssh/config, known_hosts or keys of the machine leak into the test.
    home = mkdtempSync(path.join(os.tmpdir(), 'sshmux-home-'));
    env = { HOME: home, SSHMUX_NO_DAEMON: '1', XDG_RUNTIME_DIR: home, SSH_AUTH_SOCK: '' };
  });
  afterAll(async () => {
    await sshd?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const base = (): string[] => [
    'ssh',
    '-i',
    sshd.keyPath,
    '-p',
    String(sshd.port),
    '-o',
    `UserKnownHostsFile=${sshd.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
  ];

  it('propagates stdout, stderr and the remote exit code', async () => {
    const r = await runCli([...base(), 'backup@127.0.0.1', 'echo out; echo err >&2; exit 7'], { env });
    expect(r.stderr).toBe('err\n');
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.code).toBe(7);
  });

  it('joins command words with spaces like ssh and exits 0', async () => {
    const r = await runCli([...base(), 'backup@127.0.0.1', 'printf', '%s-', 'a', 'b'], { env });
    expect(r.stdout.toString()).toBe('a-b-');
    expect(r.code).toBe(0);
  });

  it('honours RequestTTY and StdinNull from the configuration, as -tt and -n', async () => {
    const tty = await runCli([...base(), '-o', 'RequestTTY=force', 'backup@127.0.0.1', 'tty'], { env });
    expect(tty.stdout.toString()).toMatch(/^\/dev\/pts\/\d+\r?\n$/);
    const noTty = await runCli([...base(), 'backup@127.0.0.1', 'tty'], { env });
    expect(noTty.stdout.toString()).toBe('not a tty\n');
    const nullIn = await runCli([...base(), '-o', 'StdinNull=yes', 'backup@127.0.0.1', 'wc -c'], {
      env,
      input: 'x'.repeat(1000),
    });
    expect(nullIn.stdout.toString().trim()).toBe('0');
  });

  it('refuses a keyword sshmux cannot honour yet, naming it, before connecting', async () => {
    const logins = await sshd.countLogins();
    const r = await runCli([...base(), '-o', 'ForwardX11=yes', 'backup@127.0.0.1', 'echo should-not-run'], {
      env,
    });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toBe(
      "sshmux: ForwardX11 yes is not supported by sshmux (X11 forwarding); remove it or use OpenSSH's ssh\n",
    );
    expect(await sshd.countLogins()).toBe(logins);
  });

  it('relays stdin to the remote command', async () => {
    const r = await runCli([...base(), 'backup@127.0.0.1', 'wc -c'], { env, input: 'x'.repeat(100_000) });
    expect(r.stdout.toString().trim()).toBe('100000');
    expect(r.code).toBe(0);
  });

  it('refuses an unknown host key and exits 255 with a message', async () => {
    const r = await runCli(
      [
        'ssh',
        '-i',
        sshd.keyPath,
        '-p',
        String(sshd.port),
        '-o',
        `UserKnownHostsFile=${path.join(home, 'none')}`,
        '-o',
        'BatchMode=yes',
        'backup@127.0.0.1',
        'echo should-not-run',
      ],
      { env },
    );
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toMatch(/host key/i);
  });

  it('fails with 255 and a clear message when nothing listens', async () => {
    const r = await runCli(
      ['ssh', '-i', sshd.keyPath, '-p', '1', '-o', 'StrictHostKeyChecking=no', 'backup@127.0.0.1', 'true'],
      {
        env,
      },
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n');
  });
});
