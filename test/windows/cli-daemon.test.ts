import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { WineSandbox as Sandbox, type WineSandbox, type WineSetup, wineSetup } from '../helpers/wine.js';

/** `sshmux ssh` run by Windows node.exe (process.platform win32, real named pipes) under Wine. */
describe('Windows tier: sshmux ssh through the daemon and in-process', () => {
  let setup: WineSetup;
  let sshd: StartedSshd;
  const boxes: WineSandbox[] = [];
  const sandbox = (): WineSandbox => {
    const box = new Sandbox(setup, sshd);
    boxes.push(box);
    return box;
  };
  beforeAll(async () => {
    setup = wineSetup();
    sshd = await startSshd();
  });
  afterEach(async () => {
    for (const box of boxes.splice(0)) await box.cleanup();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs as win32 and through one daemon: two commands, one login, the daemon on a named pipe', async () => {
    const box = sandbox();
    const before = await sshd.countLogins('root');
    const a = await box.remote('echo one; echo two >&2; exit 3');
    expect(a.stderr).toBe('two\n');
    expect(a.stdout.toString()).toBe('one\n');
    expect(a.code).toBe(3);
    const b = await box.remote('uname -s');
    expect(b.stdout.toString()).toBe('Linux\n');
    expect(b.code).toBe(0);
    expect(await sshd.countLogins('root')).toBe(before + 1);
    expect(box.daemonPids()).toHaveLength(1);
    // %LOCALAPPDATA%\sshmux holds the daemon's token, as docs/cli.md says.
    expect(existsSync(path.join(box.daemonDir, 'token'))).toBe(true);
    const check = await box.ssh(['-O', 'check', 'x']);
    expect(check.stderr).toMatch(/^Master running \(pid=\d+, 0 connection\(s\) to \S+@x:22\)\n$/);
    expect(check.code).toBe(0);
  });

  it('SSHMUX_NO_DAEMON=1 runs in-process: no daemon, one login per command', async () => {
    const box = sandbox();
    const before = await sshd.countLogins('root');
    const env = { SSHMUX_NO_DAEMON: '1' };
    const a = await box.remote('echo one; exit 4', { env });
    expect(a.stdout.toString()).toBe('one\n');
    expect(a.code).toBe(4);
    const b = await box.remote('cat', { env, input: 'from stdin\n' });
    expect(b.stdout.toString()).toBe('from stdin\n');
    expect(await sshd.countLogins('root')).toBe(before + 2);
    expect(box.daemonPids()).toEqual([]);
  });
});
