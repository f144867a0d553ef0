import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { selectEndpoint } from '../../src/mux/endpoint.js';
import { connectDaemon } from '../../src/mux/mux-client.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI, MuxSandbox, startCli } from './mux-helpers.js';

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line!.replace(/\D+/g, ''));
}

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** A raw connection that does `what` and resolves when the daemon closed it. */
function hostile(path: string, what: (s: net.Socket) => void): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(path, () => what(s));
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
}

/**
 * Issue 18's "a daemon that hostile or broken local clients cannot take down": while one
 * real session streams, hundreds of bad clients at once, one that never reads its output and
 * one killed mid-session; the session's output is intact, the daemon lives, its memory and
 * descriptors come back.
 */
describe('the daemon under hostile and broken local clients', () => {
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

  it('serves its real session and later ones through 500 bad clients, a stalled reader and a killed client', async () => {
    expect((await box.remote('true')).code).toBe(0);
    const [pid] = box.daemonPids();
    expect(pid).toBeGreaterThan(0);
    const rssBefore = rssKiB(pid!);
    const fdsBefore = fdCount(pid!);

    const lines = Array.from({ length: 40 }, (_, i) => `line${i}`);
    const legit = box.run([...box.sshArgs(), 'for i in $(seq 0 39); do echo line$i; sleep 0.1; done']);

    // A client that asks for 200 MB of output and never reads it: its stdout pipe fills, it stops
    // granting the daemon credit, and the daemon must stop too instead of buffering.
    const stalled = spawn(process.execPath, [CLI, 'ssh', ...box.sshArgs(), 'head -c 200000000 /dev/zero'], {
      env: box.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stalled.stdout!.pause();
    // A same-user client that proves the token and then says nothing more.
    const endpoint = selectEndpoint({
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: box.daemonDir },
      uid: process.getuid!(),
      username: 'root',
      tmpdir: '/tmp',
      homedir: '/root',
    });
    const idle = await connectDaemon(endpoint, VERSION);

    // A real client killed with SIGKILL mid-session: the daemon closes its channel, so the remote
    // command's next write fails and it ends (as with an OpenSSH master: no signal is sent).
    const killed = startCli(['ssh', ...box.sshArgs(), 'while :; do echo tick47; sleep 0.2; done'], {
      env: box.env(),
    });

    const bad: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      const kind = i % 5;
      bad.push(
        hostile(box.socketPath, (s) => {
          if (kind === 0) return; // connects, never speaks: the hello timeout closes it
          if (kind === 1) s.end(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
          else if (kind === 2)
            s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1])); // a 2 GiB frame header
          else if (kind === 3)
            s.write(Buffer.from([0, 0, 0, 3, 1, 0x7b])); // half a hello, then silence
          else s.end(Buffer.from([0, 0, 0, 12, 1, ...Buffer.from('{"protocol"')])); // bad JSON
        }),
      );
    }
    await sleep(1_000);
    killed.child.kill('SIGKILL');
    await killed.result;

    const r = await legit;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(`${lines.join('\n')}\n`);
    expect(box.daemonPids()).toEqual([pid]);

    // Every bad client was closed by the daemon, the silent ones by its hello timeout (10 s).
    await Promise.race([
      Promise.all(bad),
      sleep(20_000).then(() => Promise.reject(new Error('bad clients left open'))),
    ]);

    // The stalled reader holds at most its credit: memory stays bounded while it sits there.
    const rssStalled = rssKiB(pid!);
    console.log(
      `daemon RSS ${rssBefore} KiB before, ${rssStalled} KiB with the stalled reader; fds ${fdsBefore}`,
    );
    expect(rssStalled - rssBefore).toBeLessThan(48 * 1024);
    // SIGTERM ends it at once, as it ends ssh, though its stdout write is still blocked.
    const stalledGone = new Promise<number | null>((r) => stalled.on('close', (code) => r(code)));
    stalled.kill('SIGTERM');
    expect(await stalledGone).toBe(255);
    idle.conn.destroy();

    const after = await box.remote('echo after');
    expect(after.stdout.toString()).toBe('after\n');
    // No remote command outlived its client, the stalled one's included.
    for (let i = 0; i < 50; i++) {
      if (
        (await sshd.processes('tick47')).length === 0 &&
        (await sshd.processes('head -c 200000000')).length === 0
      )
        break;
      await sleep(200);
    }
    expect(await sshd.processes('tick47')).toEqual([]);
    expect(await sshd.processes('head -c 200000000')).toEqual([]);
    // Descriptors come back to where they were (a little slack for the pool's own).
    await sleep(500);
    expect(fdCount(pid!) - fdsBefore).toBeLessThanOrEqual(4);
  }, 90_000);
});
