import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSshmuxError } from '../../src/index.js';
import { CONNECTION_LOST } from '../../src/pool/remote-process.js';
import { CLI, runProgram } from '../helpers/cli.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { MuxSandbox } from './mux-helpers.js';

/** The soak's exec: a token with shell metacharacters, printed by `printf %s "$1"`. */
const TOKEN = `tok-1 ;$(x) \`y\` 'q"`;
const SOAK_EXEC = ['sh', '-c', 'printf %s "$1"', 'soak-op-1', TOKEN];
/** The same output, always after the exit status: the shell exits, a child it left prints. */
const LATE_EXEC = ['sh', '-c', '{ sleep 0.05; printf %s "$1"; } & exit 0', 'soak-op-2', TOKEN];
/** As LATE_EXEC, with the exit half a second after the start and the output long after it. */
const SLOW_EXEC = ['sh', '-c', '{ sleep 3; printf %s "$1"; } & sleep 0.5; exit 0', 'soak-op-3', TOKEN];

/** Connect `pool` to `host` (again, after a cut) on a link with no fault planned. */
async function warm(run: () => Promise<unknown>): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await run();
      return;
    } catch (err) {
      // A cut planned past the end of the last exec lands on this one; the next connection is clean.
      if (i >= 3) throw err;
    }
  }
}

/**
 * Issue 18 item 2: the soak once saw an exec resolve with exit 0 and empty stdout under faults.
 * sshd reaps the child before it drains the child's output pipe now and then, so its
 * exit-status can precede the last CHANNEL_DATA; a connection cut between the two used to
 * resolve the exec with the exit status and whatever output had arrived (none).
 */
describe('exec when the connection dies after the exit status', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it("sshd sends the soak exec's exit-status before its output in some runs (the race behind the result)", async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    let exitFirst = 0;
    let runs = 0;
    // Seen in about 1 of 30 runs on a loaded 2-core machine; stop at the first.
    for (; runs < 1500 && exitFirst === 0; runs++) {
      const proc = await pool.spawn(host, SOAK_EXEC);
      const channel = proc.stdout as unknown as ClientChannel;
      const order: string[] = [];
      channel.on('exit', () => order.push('exit'));
      channel.on('data', () => order.push('data'));
      proc.stdin.end();
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      if (order.indexOf('exit') < order.indexOf('data')) exitFirst++;
    }
    expect(exitFirst, `exit-status before the output in none of ${runs} runs`).toBe(1);
  }, 120_000);

  it('a cut after the exit status but before the output rejects as connection lost, not exit 0 with no output', async () => {
    await using proxy = await FaultProxy.start({ targetPort: sshd.port, seed: 1 });
    await using pool = sshd.pool();
    const host = sshd.hostConfig('backup', { port: proxy.port });
    const proc = await pool.spawn(host, SLOW_EXEC);
    proc.stdin.end();
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await new Promise((resolve) => (proc.stdout as unknown as ClientChannel).once('exit', resolve));
    proxy.cutAll();
    const err = await proc.exited.then(
      (status) => new Error(`resolved ${JSON.stringify(status)} with output ${JSON.stringify(out)}`),
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ kind: 'network', code: CONNECTION_LOST });
    expect(out).toBe('');
  });

  it('sshmux ssh in-process and through the daemon, next to /usr/bin/ssh: a cut after the exit status exits 255, not 0', async () => {
    await using proxy = await FaultProxy.start({ targetPort: sshd.port, seed: 3 });
    const sandbox = new MuxSandbox(sshd);
    try {
      const knownHosts = path.join(sandbox.home, 'known_hosts');
      writeFileSync(knownHosts, sshd.hostKeys.map((k) => `[${sshd.host}]:${proxy.port} ${k}\n`).join(''));
      const args = [
        '-i',
        sshd.keyPath,
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
      ];
      const dest = ['-p', String(proxy.port), `backup@${sshd.host}`];
      const runs = [
        ['ssh', '/usr/bin/ssh', [...args, ...dest], {}],
        ['sshmux in-process', process.execPath, [CLI, 'ssh', ...args, ...dest], { SSHMUX_NO_DAEMON: '1' }],
        ['sshmux daemon', process.execPath, [CLI, 'ssh', ...args, ...dest], {}],
      ] as const;
      for (const [name, file, argv, env] of runs) {
        // The shell exits after a second; what it left behind prints four seconds later.
        const cmd = `{ sleep 4.${name.length}; echo late; } & sleep 1.${name.length}; exit 0`;
        const done = runProgram(file, [...argv, cmd], { env: sandbox.env(env), timeoutMs: 30_000 });
        const parent = `sleep 1.${name.length}$`;
        const end = Date.now() + 20_000;
        for (let seen = false; ; await sleep(50)) {
          const running = (await sshd.processes(parent)).length > 0;
          if (seen && !running) break;
          seen ||= running;
          if (Date.now() > end)
            throw new Error(`${name}: the remote shell never ran: ${JSON.stringify(await done)}`);
        }
        // The shell is gone: sshd sent its exit-status; the output is still seconds away.
        await sleep(300);
        proxy.cutAll();
        const r = await done;
        expect({ name, code: r.code, stdout: r.stdout.toString() }).toEqual({ name, code: 255, stdout: '' });
      }
    } finally {
      await sandbox.cleanup();
    }
  }, 120_000);

  it('an exec cut at every offset of its traffic either returns its whole output or fails classified', async () => {
    await using proxy = await FaultProxy.start({ targetPort: sshd.port, seed: 2 });
    await using pool = sshd.pool();
    const host = sshd.hostConfig('backup', { port: proxy.port, connectTimeoutMs: 5_000 });
    const wrong: string[] = [];
    const tally = { ok: 0, failed: 0 };
    // An exec moves under 650 bytes both ways; an SSH packet here is 48 bytes or more.
    for (let at = 0; at < 650; at += 8) {
      await warm(() => pool.exec(host, 'true'));
      proxy.cutAfter(at);
      const r = await pool
        .exec(host, LATE_EXEC, { encoding: 'utf8', timeout: 10_000 })
        .catch((e: unknown) => e as Error);
      if (isSshmuxError(r)) tally.failed++;
      else if (!(r instanceof Error) && r.stdout === TOKEN && r.exitCode === 0) tally.ok++;
      else wrong.push(`cut at +${at}: ${r instanceof Error ? r.stack : JSON.stringify(r)}`);
    }
    expect(wrong).toEqual([]);
    // Both outcomes happened: the cuts landed inside the exec and past its end.
    expect(tally.ok).toBeGreaterThan(10);
    expect(tally.failed).toBeGreaterThan(10);
  }, 240_000);
});
