import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { WineSandbox, type WineSetup, wineSetup } from '../helpers/wine.js';

const NOT_RUNNING = /^Control socket connect\(\\\\\.\\pipe\\sshmux-[^)]+\): no sshmux daemon is running\n$/;

async function until(
  what: string,
  test: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The daemon's lifecycle under Windows node.exe: -O, a crowd, kill -9, and -O stop with a session. */
describe('Windows tier: one daemon, controlled', () => {
  let setup: WineSetup;
  let sshd: StartedSshd;
  const boxes: WineSandbox[] = [];
  const sandbox = (): WineSandbox => {
    const box = new WineSandbox(setup, sshd);
    boxes.push(box);
    return box;
  };
  beforeAll(async () => {
    setup = wineSetup();
    sshd = await startSshd({ sshdOptions: ['MaxSessions=30'] });
  });
  afterEach(async () => {
    for (const box of boxes.splice(0)) await box.cleanup();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('-O check and -O exit as ssh prints them, with and without a daemon', async () => {
    const box = sandbox();
    const none = await box.ssh(['-O', 'check', 'x']);
    expect(none.stderr).toMatch(NOT_RUNNING);
    expect(none.code).toBe(255);
    expect((await box.remote('true')).code).toBe(0);
    const [pid] = box.daemonPids();
    const check = await box.ssh(['-O', 'check', 'x']);
    expect(check.stderr).toMatch(/^Master running \(pid=\d+, 0 connection\(s\) to \S+@x:22\)\n$/);
    expect(check.code).toBe(0);
    const exit = await box.ssh(['-O', 'exit', 'x']);
    expect(exit.stderr).toBe('Exit request sent.\n');
    expect(exit.code).toBe(0);
    expect(await box.waitForDaemons(0)).toEqual([]);
    expect(pid).toBeDefined();
  });

  // Issue 15, defect 3: a named pipe lives while any instance is open, so after `-O stop` with a
  // session running the name stayed taken: the next invocation waited 31 s ("connect ETIMEDOUT
  // \\.\pipe\…") and connected in-process, and `-O check` printed "sshmux: Error: connect UNKNOWN".
  it('-O stop with a session running: the session finishes, the next invocation starts a fresh daemon', async () => {
    const box = sandbox();
    // A session that runs until the test lets it end (a file in the container).
    const gate = `/tmp/gate-${path.basename(box.root)}`;
    const long = box.remote(`while [ ! -e ${gate} ]; do sleep 0.2; done; echo long-done`);
    await until('the long session', async () => (await sshd.processes(gate)).length > 0, 60_000);
    const [old] = box.daemonPids();
    const stop = await box.ssh(['-O', 'stop', 'x']);
    expect(stop.stderr).toBe('Stop listening request sent.\n');
    expect(stop.code).toBe(0);
    await until(
      'the stopped daemon to give up its pipe',
      () => !existsSync(path.join(box.daemonDir, 'pipe')),
    );
    const check = await box.ssh(['-O', 'check', 'x']);
    expect(check.stderr).toMatch(NOT_RUNNING);
    expect(check.code).toBe(255);
    const before = await sshd.countLogins('root');
    const next = await box.remote('echo next');
    expect(next.stderr).toBe('');
    expect(next.stdout.toString()).toBe('next\n');
    expect(next.code).toBe(0);
    const daemons = box.daemonPids();
    expect(daemons).toHaveLength(2);
    expect(daemons).toContain(old);
    // Through the new daemon: a second command reuses its connection.
    expect((await box.remote('true')).code).toBe(0);
    expect(await sshd.countLogins('root')).toBe(before + 1);
    await sshd.sh(`touch ${gate}`);
    const r = await long;
    expect(r.stdout.toString()).toBe('long-done\n');
    expect(r.code).toBe(0);
    // Its last session over, the stopped daemon exits; the new one serves on.
    expect(await box.waitForDaemons(1)).toEqual(daemons.filter((p) => p !== old));
  });

  it('after kill -9 of the daemon the next invocation starts a new one and works', async () => {
    const box = sandbox();
    expect((await box.remote('true')).code).toBe(0);
    const [pid] = box.daemonPids();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    expect(await box.waitForDaemons(0)).toEqual([]);
    const before = await sshd.countLogins('root');
    const r = await box.remote('echo after-kill');
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('after-kill\n');
    expect(r.code).toBe(0);
    const [fresh] = box.daemonPids();
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(pid);
    expect((await box.remote('true')).code).toBe(0);
    expect(await sshd.countLogins('root')).toBe(before + 1);
  });

  it('20 concurrent invocations: one daemon, at most 4 logins, every output right', async () => {
    const box = sandbox();
    const before = await sshd.countLogins('root');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => box.remote(`echo n${i}; exit ${i % 3}`)),
    );
    results.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(`n${i}\n`);
      expect(r.code).toBe(i % 3);
    });
    expect(box.daemonPids()).toHaveLength(1);
    const logins = (await sshd.countLogins('root')) - before;
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(logins).toBeLessThanOrEqual(4);
  });
});
