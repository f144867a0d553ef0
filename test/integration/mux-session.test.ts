import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { MuxSandbox, openssh, startCli } from './mux-helpers.js';

/** `sshmux ssh` through the daemon: exit codes, streams, EOF, signals, env. */
describe('sshmux ssh through the daemon', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  beforeAll(async () => {
    sshd = await startSshd();
    box = new MuxSandbox(sshd);
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  it('propagates the remote exit status and starts exactly one daemon', async () => {
    const ok = await box.remote('true');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const three = await box.remote('exit 3');
    expect(three.code).toBe(3);
    const out = await box.remote('echo hello; echo oops >&2; exit 42');
    expect(out.code).toBe(42);
    expect(out.stdout.toString()).toBe('hello\n');
    expect(out.stderr).toBe('oops\n');
    expect(box.daemonPids()).toHaveLength(1);
  });

  it('joins command words with spaces as ssh does', async () => {
    const words = ['printf', '%s-%s\\n', 'a b', 'c'];
    const r = await box.run([...box.sshArgs(), ...words]);
    // The remote shell splits the joined line again: `printf %s-%s\n a b c`, unquoted `\n` is `n`.
    expect(r.stdout.toString()).toBe('a-bnc-n');
    expect(r.stdout.toString()).toBe((await openssh(sshd, words.join(' '))).stdout.toString());
  });

  it('relays 100 MB of stdout with the byte count intact', async () => {
    const r = await box.remote('head -c 100000000 /dev/zero');
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(100_000_000);
    expect(r.stdout.every((b) => b === 0)).toBe(true);
  });

  it('relays stdin and ends the remote stdin when ours closes', async () => {
    const input = Buffer.alloc(3_000_000, 'x');
    const r = await box.remote('cat; echo done >&2', { input });
    expect(r.code).toBe(0);
    expect(r.stdout.equals(input)).toBe(true);
    expect(r.stderr).toBe('done\n');
    const wc = await box.remote('wc -c', { input: 'abc' });
    expect(wc.stdout.toString().trim()).toBe('3');
  });

  it('-n gives the remote an empty stdin even when ours has data', async () => {
    const r = await box.run(['-n', ...box.sshArgs(), 'wc -c'], { input: 'ignored data' });
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim()).toBe('0');
  });

  it('exits 255 when the remote command is killed by a signal, like OpenSSH', async () => {
    const r = await box.remote('kill -9 $$');
    expect(r.code).toBe(255);
    expect((await openssh(sshd, 'kill -9 $$')).code).toBe(255);
    const term = await box.remote('kill -TERM $$');
    expect(term.code).toBe(255);
  });

  it('leaves with 255 when its reader goes away (EPIPE), like `ssh host yes | head -1`', async () => {
    const { child } = startCli(['ssh', ...box.sshArgs(), 'yes sshmux-epipe'], { env: box.env() });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.stdout!.destroy();
    const t0 = Date.now();
    expect(await exited).toBe(255);
    expect(Date.now() - t0).toBeLessThan(5_000);
    let left = ['?'];
    for (let i = 0; i < 50 && left.length > 0; i++) {
      left = await sshd.processes('yes sshmux-epipe');
      if (left.length > 0) await sleep(100);
    }
    expect(left).toEqual([]);
  });

  it('-tt allocates a remote pseudo-terminal; -t without a local terminal does not, like ssh', async () => {
    const forced = await box.run(['-tt', ...box.sshArgs(), 'tty'], { stdin: 'ignore' });
    expect(forced.code).toBe(0);
    expect(forced.stdout.toString()).toMatch(/^\/dev\/pts\/\d+\r?\n$/);
    // Like ssh, the pty request carries the local $TERM (ssh2 alone would say vt100).
    const envs: Record<string, string>[] = [
      { TERM: 'xterm-256color' },
      { TERM: 'xterm-256color', SSHMUX_NO_DAEMON: '1' },
    ];
    for (const env of envs) {
      const term = await box.run(['-tt', ...box.sshArgs(), 'echo "$TERM"'], { stdin: 'ignore', env });
      expect(term.stdout.toString()).toBe('xterm-256color\r\n');
    }
    const soft = await box.run(['-t', ...box.sshArgs(), 'tty'], { stdin: 'ignore' });
    expect(soft.stdout.toString()).toBe('not a tty\n');
    expect(soft.code).toBe(1);
  });

  it('forwards GIT_PROTOCOL as a channel environment variable', async () => {
    const r = await box.remote('echo "[$GIT_PROTOCOL]"', { env: { GIT_PROTOCOL: 'version=2' } });
    expect(r.stdout.toString()).toBe('[version=2]\n');
  });

  it('fails with 255 and a message for a refused host key', async () => {
    const r = await box.run([
      '-i',
      sshd.keyPath,
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-p',
      String(sshd.port),
      `root@${sshd.host}`,
      'true',
    ]);
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/^sshmux: .*host key/i);
  });
});
