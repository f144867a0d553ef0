import { type ChildProcess, execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSshmuxError } from '../../src/errors.js';
import { CONTAINER_BTRFS, freePort } from '../helpers/sshd.js';
import { type CliResult, startCli } from '../integration/mux-helpers.js';
import { seededBytes, settle, sha256 } from './checks.js';
import { daemonPids, daemonState } from './daemon-state.js';
import {
  CliFailed,
  cliFailure,
  daemonSession,
  MARKER,
  type OpContext,
  type Operation,
  pushFixture,
  pushTree,
  receivedSame,
  sameTree,
  snapshot,
  sshArgs,
} from './ops.js';
import type { SoakReport } from './report.js';

/** What the long soak's operations need beyond the short one's. */
export interface LongContext extends OpContext {
  readonly report: SoakReport;
  /** ssh_config with `soak` (backup) and `soak-root` (root), both through the proxy. */
  readonly cliConfig: string;
  /** Daemon directories: `chaos` has its daemon SIGKILLed at random, `steady` is sampled for growth. */
  readonly chaosDir: string;
  /** A loopback server that echoes every byte back (the forwards' target). */
  readonly echoPort: number;
  /** Remote path of the small tmpfs that pushes fill up. */
  readonly small: string;
  /** Faults so far (proxy faults, sshd restarts, daemon kills): tells whether one hit an operation. */
  readonly faultsSoFar: () => number;
}

/** An `sshmux` process that gets SIGKILLed `killAfterMs` after start unless it exited before. */
function killLater(
  child: ChildProcess,
  result: Promise<CliResult>,
  killAfterMs: number,
  ctx: LongContext,
): Promise<{ killed: boolean; r: CliResult }> {
  let killed = false;
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) {
      killed = child.kill('SIGKILL');
      if (killed) ctx.report.faults.clientKills++;
    }
  }, killAfterMs);
  return result.then(
    (r) => {
      clearTimeout(timer);
      return { killed, r };
    },
    (err: unknown) => {
      clearTimeout(timer);
      throw err;
    },
  );
}

/** `sshmux` with the soak's ssh_config, no daemon: a direct child process. */
function cli(ctx: LongContext, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  // -F belongs to the (sub)command: `push -F`, `btrfs send -F`.
  const at = args[0] === 'btrfs' ? 2 : 1;
  return startCli([...args.slice(0, at), '-F', ctx.cliConfig, ...args.slice(at)], {
    env: { ...process.env, SSHMUX_NO_DAEMON: '1', SSH_AUTH_SOCK: '', ...extraEnv },
  });
}

/** A process that ran to its end without a kill: '' when it succeeded, else its classified failure thrown. */
function finished(what: string, r: CliResult, codes: readonly number[]): string {
  return r.code === 0 ? '' : cliFailure(what, r, codes);
}

/** A run before its kill, or one the kill missed: '' when it succeeded or failed classified, else what was wrong. */
function dirtyOnly(what: string, r: CliResult, codes: readonly number[]): string {
  if (r.code === 0) return '';
  try {
    return cliFailure(what, r, codes);
  } catch (err) {
    if (err instanceof CliFailed) return '';
    throw err;
  }
}

/** Bytes `data` sent over `sock` (ended after), and everything that came back. */
function echoThrough(sock: net.Socket | NodeJS.ReadWriteStream, data: Buffer, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`no echo end within ${ms} ms`)), ms);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    sock.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(Object.assign(err, { received: Buffer.concat(chunks) }));
    });
    sock.end(data);
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The long soak's extra operations. */
export function longOperations(ctx: LongContext): Record<string, Operation> {
  const { rand, pool } = ctx;
  return {
    // A local forward over the pool (what ssh -L opens per connection): bytes through it verified.
    forward: async (n) => {
      const data = seededBytes(ctx.seed * 7 + n, 1024 + Math.floor(rand() * 512 * 1024));
      const lease = await pool.openChannel(
        'faulty',
        { host: '127.0.0.1', port: ctx.echoPort },
        { signal: AbortSignal.timeout(30_000) },
      );
      try {
        const got = await echoThrough(lease.channel as unknown as net.Socket, data, 60_000);
        if (got.equals(data)) return '';
        // A connection that dies ends its forwarded channels as ssh's -L closes its sockets: EOF,
        // no error on the stream. Clean only when what arrived is exactly what was sent, cut short.
        if (got.length < data.length && data.subarray(0, got.length).equals(got))
          throw new CliFailed('forward-cut', `the channel ended after ${got.length} of ${data.length} bytes`);
        return `forward echoed ${got.length} of ${data.length} bytes, not the bytes sent`;
      } finally {
        lease.close();
        await lease.closed;
      }
    },

    // `sshmux ssh -N -L` through a daemon, bytes through its listener verified, then SIGKILLed.
    'forward-cli': async (n) => {
      const lport = await freePort();
      const { child, result } = startCli(
        ['ssh', '-N', '-L', `${lport}:127.0.0.1:${ctx.echoPort}`, ...sshArgs(ctx)],
        { env: { ...process.env, XDG_RUNTIME_DIR: ctx.daemonDir(n), SSHMUX_PERSIST: ctx.daemonPersist } },
      );
      const faultsBefore = ctx.faultsSoFar();
      let exited: CliResult | undefined;
      result.then(
        (r) => {
          exited = r;
        },
        () => {},
      );
      try {
        const end = Date.now() + 30_000;
        while (!exited && !(await accepts(lport))) {
          if (Date.now() > end)
            throw new CliFailed('forward-cli-timeout', 'the -L listener never came up in 30 s');
          await sleep(200);
        }
        if (exited) {
          // -N whose daemon went away (killed) or lost its connection: 255 and no words, as ssh's
          // mux client does (src/cli/ssh-start.ts); clean only when a fault did happen meanwhile.
          if (exited.code === 255 && exited.stderr.trim() === '' && ctx.faultsSoFar() > faultsBefore)
            throw new CliFailed(
              'forward-cli-255-silent',
              '-N ended with 255 after a fault, silently as ssh does',
            );
          return cliFailure('forward-cli', exited, [255]);
        }
        const data = seededBytes(ctx.seed * 11 + n, 1024 + Math.floor(rand() * 256 * 1024));
        let got: Buffer;
        try {
          got = await echoThrough(net.connect(lport, '127.0.0.1'), data, 60_000);
        } catch (err) {
          got = (err as { received?: Buffer }).received ?? Buffer.alloc(0);
        }
        if (got.length < data.length && data.subarray(0, got.length).equals(got))
          throw new CliFailed(
            'forward-cli-cut',
            `the forwarded connection closed after ${got.length} of ${data.length} bytes`,
          );
        return got.equals(data) ? '' : `-L echoed ${got.length} of ${data.length} bytes, not the bytes sent`;
      } finally {
        if (child.kill('SIGKILL')) ctx.report.faults.clientKills++;
        await result.catch(() => {});
        // Nothing stale: the listener goes with its process.
        if ((await settle(async () => ((await accepts(lport)) ? 1 : 0), 0, 10_000)) > 0)
          ctx.report.leaks.push(
            `#${n} forward-cli: 127.0.0.1:${lport} still accepts after its ssh -L was killed`,
          );
      }
    },

    // sshmux scp of one file; the final name holds the whole file or nothing.
    scp: async (n) => {
      const local = path.join(ctx.work, `scp-${n}`);
      const data = seededBytes(ctx.seed * 13 + n, Math.floor(rand() * 1536 * 1024));
      writeFileSync(local, data);
      const remote = `${ctx.remoteRoot}/scp/f-${n}`;
      const { result } = cli(ctx, ['scp', '-q', local, `soak:${remote}`]);
      const r = await result;
      rmSync(local, { force: true });
      const at = await ctx.clean.exec(
        ctx.direct,
        ['sh', '-c', 'sha256sum < "$1" 2>/dev/null; rm -f -- "$1"', 'x', remote],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      const remoteSha = at.stdout.split(' ')[0] ?? '';
      if (remoteSha !== '' && remoteSha !== sha256(data))
        return `scp left other bytes at the final name ${remote}`;
      if (r.code === 0) return remoteSha === sha256(data) ? '' : `scp exited 0 but ${remote} is missing`;
      return cliFailure('scp', r, [1, 255]);
    },

    // A push into a small tmpfs that fills up: ENOSPC is a classified failure leaving no half file.
    'push-full': async (n) => {
      if (rand() < 0.15) await ctx.sshd.sh(`rm -rf ${ctx.small}/*`);
      try {
        return await pushTree(ctx, n, `${ctx.small}/p-${n}`, 600_000);
      } catch (err) {
        if (isSshmuxError(err) && err.code === 'SSHMUX_ERR_REMOTE_NO_SPACE') ctx.report.faults.diskFull++;
        throw err;
      }
    },

    // A short-lived `sshmux ssh` streaming through cat, SIGKILLed; the next session through the same daemon works.
    'kill-ssh': async (n) => {
      const dir = ctx.daemonDir(n);
      const { child, result } = startCli(['ssh', ...sshArgs(ctx), `sh -c 'cat; :' ${MARKER}${n}`], {
        env: { ...process.env, XDG_RUNTIME_DIR: dir, SSHMUX_PERSIST: ctx.daemonPersist },
      });
      child.stdin!.on('error', () => {});
      child.stdin!.write(seededBytes(n, 256 * 1024));
      const { killed, r } = await killLater(child, result, 200 + Math.floor(rand() * 3_000), ctx);
      const early = killed ? '' : dirtyOnly('kill-ssh', r, [255]);
      if (early) return early;
      return daemonSession(ctx, n, dir);
    },

    // `sshmux push` SIGKILLed at a random moment, then run again: it completes over what was left.
    'kill-push': async (n) => {
      const local = pushFixture(ctx, n, 400_000);
      const target = `${ctx.remoteRoot}/killed/p-${n}`;
      ctx.pushes.set(n, [local, target]);
      const first = cli(ctx, ['push', local, `soak-root:${target}`]);
      const { killed, r } = await killLater(first.child, first.result, 300 + Math.floor(rand() * 4_000), ctx);
      const early = killed ? '' : dirtyOnly('push', r, [2]);
      if (early) return early;
      const again = await cli(ctx, ['push', local, `soak-root:${target}`]).result;
      const problem = finished('push', again, [2]);
      if (problem) return problem;
      const partial = await ctx.clean.exec(ctx.direct, ['find', target, '-name', '*.sshmux-partial'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (partial.stdout.trim()) return `partial files left after a completed push: ${partial.stdout.trim()}`;
      return sameTree(ctx, local, target);
    },

    // `sshmux btrfs send` SIGKILLed at a random moment, then run again: a finished, identical snapshot.
    'kill-btrfs': async (n) => {
      if (!ctx.bt) return 'no btrfs';
      const source = snapshot(ctx, n);
      const target = `soak:${CONTAINER_BTRFS}/soak/killed`;
      const first = cli(ctx, ['btrfs', 'send', source, target]);
      const { killed, r } = await killLater(first.child, first.result, 300 + Math.floor(rand() * 5_000), ctx);
      const early = killed ? '' : dirtyOnly('btrfs-send', r, [1, 2]);
      if (early) return early;
      const again = await cli(ctx, ['btrfs', 'send', source, target]).result;
      return finished('btrfs-send', again, [1, 2]) || receivedSame(ctx, source, 'killed');
    },

    // The chaos daemon SIGKILLed (whatever its sessions are doing); the next session starts a new
    // one, and the directory holds one live daemon, its socket, and no stale spawn marker.
    'kill-daemon': async (n) => {
      for (const pid of daemonPids(ctx.chaosDir)) {
        process.kill(pid, 'SIGKILL');
        ctx.report.faults.daemonKills++;
      }
      const verdict = await daemonSession(ctx, n, ctx.chaosDir).catch((err: unknown) => err);
      const state = await daemonState(ctx.chaosDir);
      if (state) ctx.report.leaks.push(`#${n} kill-daemon: ${state}`);
      if (verdict instanceof Error) throw verdict;
      return verdict as string;
    },
  };
}

/** Drop what the long soak no longer needs, so 30 minutes fit in the small file systems. */
export async function prune(ctx: LongContext, n: number): Promise<void> {
  rmSync(path.join(ctx.work, `push-${n}`), { recursive: true, force: true });
  await ctx.clean
    .exec(
      ctx.direct,
      ['sh', '-c', 'rm -rf -- "$1/push/p-$2" "$1/killed/p-$2"', 'x', ctx.remoteRoot, String(n)],
      {
        timeout: 30_000,
      },
    )
    .catch(() => {});
}

/** Keep the btrfs volume and the receive directories to their newest few entries (inside the btrfs lock). */
export function pruneBtrfs(ctx: LongContext, keep = 4): void {
  if (!ctx.bt) return;
  const byNumber = (names: string[], prefix: string) =>
    names
      .filter((x) => x.startsWith(prefix))
      .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
  for (const f of byNumber(readdirSync(ctx.vol), 'f-').slice(0, -keep)) rmSync(path.join(ctx.vol, f));
  const dirs = [
    ctx.snaps,
    ...['chain', 'full', 'killed'].map((d) => path.join(ctx.bt!.destination, 'soak', d)),
  ];
  for (const dir of dirs) {
    for (const s of byNumber(readdirSync(dir), 's-').slice(0, -keep)) {
      execFileSync('btrfs', ['subvolume', 'delete', path.join(dir, s)], { stdio: 'ignore' });
    }
  }
}
