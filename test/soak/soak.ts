import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { plainHostConfig } from '../../src/config/plain.js';
import {
  compareManifests,
  localManifest,
  type Manifest,
  manifestsEqual,
  push,
  remoteManifest,
  SshPool,
  sendSnapshot,
} from '../../src/index.js';
import { FaultProxy, prng } from '../helpers/fault-proxy.js';
import { CONTAINER_BTRFS, type StartedSshd } from '../helpers/sshd.js';
import { runCli } from '../integration/mux-helpers.js';
import {
  isClassified,
  ProcessHooks,
  seededBytes,
  settle,
  sha256,
  tcpSocketCount,
  treeOf,
  unfinishedSubvolumes,
} from './checks.js';

export type OpKind = 'exec' | 'spawn' | 'manifest' | 'push' | 'btrfs-full' | 'btrfs-incr' | 'daemon';

export interface SoakOptions {
  seed: number;
  /** Stop issuing operations after this many. */
  maxOperations: number;
  /** Stop issuing operations after this long (ms); running ones finish. */
  durationMs: number;
  /** Operations in flight at once. @default 3 */
  concurrency?: number;
  /** Restart sshd this often (ms); 0 never. */
  restartEveryMs: number;
  /** Include btrfs sends (needs `startSshd({ btrfs: true })`). */
  btrfs: boolean;
  /** Fault rates of new proxied connections. */
  rates?: { cut: number; stall: number; slow: number };
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

export interface OpTally {
  ok: number;
  clean: number;
  dirty: number;
}

export interface SoakReport {
  seed: number;
  operations: number;
  faults: {
    cut: number;
    stalled: number;
    slowed: number;
    refused: number;
    refuseWindows: number;
    restarts: number;
  };
  succeeded: number;
  failedCleanly: number;
  failedDirty: number;
  leaked: number;
  recoverMs: number[];
  byKind: Record<OpKind, OpTally>;
  errorKinds: Record<string, number>;
  /** The first message seen for each error kind, to tell what the clean failures were. */
  examples: Record<string, string>;
  dirty: string[];
  leaks: string[];
  durationMs: number;
}

const OP_DEADLINE_MS = 150_000;
const MARKER = 'soak-op-';

/** Weighted operation mix; btrfs ones only when the harness has btrfs. */
function pickKind(r: number, btrfs: boolean): OpKind {
  const mix: [OpKind, number][] = [
    ['exec', 30],
    ['spawn', 16],
    ['manifest', 12],
    ['push', 12],
    ['daemon', 12],
    ...(btrfs
      ? ([
          ['btrfs-full', 6],
          ['btrfs-incr', 12],
        ] as [OpKind, number][])
      : []),
  ];
  const total = mix.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [k, w] of mix) {
    x -= w;
    if (x < 0) return k;
  }
  return 'exec';
}

/** A one-at-a-time lock: btrfs sends into one chain must not race for the same parent. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((r) => {
      release = r;
    });
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** Run the fault soak against `sshd`; everything it starts is stopped before it returns. */
export async function runSoak(sshd: StartedSshd, options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const rand = prng(options.seed);
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'sshmux-soak-'));
  const runtimeDir = path.join(work, 'xdg');
  mkdirSync(runtimeDir, { mode: 0o700 });
  const socketsBefore = tcpSocketCount();
  const hooks = new ProcessHooks();
  const proxy = await FaultProxy.start({
    targetPort: sshd.port,
    seed: options.seed,
    rates: options.rates ?? { cut: 0.12, stall: 0.08, slow: 0.15 },
  });
  const hostKeyVerifier = async (key: Buffer): Promise<void> => {
    if (!sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')))
      throw new Error('unknown host key');
  };
  const host = (port: number) =>
    plainHostConfig({
      host: sshd.host,
      port,
      user: 'backup',
      identityFiles: [sshd.keyPath],
      strictHostKeyChecking: 'yes',
      userKnownHostsFiles: [sshd.knownHostsFile],
      serverAliveInterval: 1,
      serverAliveCountMax: 3,
      connectTimeoutMs: 5_000,
    });
  const faulty = host(proxy.port);
  // The daemon's sessions check host keys against known_hosts: name the proxy's port there.
  const proxyKnownHosts = path.join(work, 'known_hosts');
  writeFileSync(proxyKnownHosts, sshd.hostKeys.map((k) => `[${sshd.host}]:${proxy.port} ${k}\n`).join(''));
  const direct = host(sshd.port);
  const resolve = (dest: string) => (dest === 'faulty' ? faulty : direct);
  const pool = new SshPool({ hostKeyVerifier, resolve });
  // Checks and set-up go around the proxy, so a fault never makes a check lie.
  const clean = new SshPool({ hostKeyVerifier, resolve: () => direct });

  const byKind = Object.fromEntries(
    (['exec', 'spawn', 'manifest', 'push', 'btrfs-full', 'btrfs-incr', 'daemon'] as OpKind[]).map((k) => [
      k,
      { ok: 0, clean: 0, dirty: 0 },
    ]),
  ) as Record<OpKind, OpTally>;
  const report: SoakReport = {
    seed: options.seed,
    operations: 0,
    faults: { cut: 0, stalled: 0, slowed: 0, refused: 0, refuseWindows: 0, restarts: 0 },
    succeeded: 0,
    failedCleanly: 0,
    failedDirty: 0,
    leaked: 0,
    recoverMs: [],
    byKind,
    errorKinds: {},
    examples: {},
    dirty: [],
    leaks: [],
    durationMs: 0,
  };

  // Fixed remote tree for manifest operations, and its manifest taken around the proxy.
  const remoteRoot = '/home/backup/soak';
  await sshd.sh(
    `rm -rf ${remoteRoot} && mkdir -p ${remoteRoot}/fixed/sub ${remoteRoot}/push && ` +
      `head -c 300000 /dev/urandom > ${remoteRoot}/fixed/big && echo hi > '${remoteRoot}/fixed/sub/a b' && ` +
      `ln -s 'sub/a b' ${remoteRoot}/fixed/link && chown -R backup:backup ${remoteRoot}`,
  );
  const fixedManifest = await remoteManifest(clean, { dest: direct, path: `${remoteRoot}/fixed` });

  // btrfs: a writable subvolume on the host, snapshots beside it, two receive directories.
  const bt = options.btrfs ? sshd.btrfs : undefined;
  if (options.btrfs && !bt) throw new Error('runSoak({ btrfs: true }) needs startSshd({ btrfs: true })');
  const vol = bt ? path.join(bt.source, 'soak-vol') : '';
  const snaps = bt ? path.join(bt.source, 'soak-snaps') : '';
  if (bt) {
    execFileSync('btrfs', ['subvolume', 'create', vol], { stdio: 'ignore' });
    mkdirSync(snaps);
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/soak/chain ${CONTAINER_BTRFS}/soak/full`);
  }
  const btrfsLock = new Mutex();
  /** Local tree and remote target of each push operation, for its leftover check. */
  const pushes = new Map<number, [string, string]>();

  const waitNoRemote = async (pattern: string): Promise<string[]> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const left = await sshd.processes(pattern);
      if (left.length === 0 || Date.now() > end) return left;
      await sleep(300);
    }
  };

  /** One operation: resolves with a verification failure text, or '' when verified; throws the op's error. */
  const operations: Record<OpKind, (n: number) => Promise<string>> = {
    exec: async (n) => {
      const token = `tok-${n}-${Math.floor(rand() * 1e9)} ;$(x) \`y\` 'q"`;
      const r = await pool.exec('faulty', ['sh', '-c', 'printf %s "$1"', `${MARKER}${n}`, token], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      return r.stdout === token && r.exitCode === 0
        ? ''
        : `exec output ${JSON.stringify(r.stdout)}, exit ${r.exitCode}, signal ${r.signal}, ` +
            `stderr ${JSON.stringify(r.stderr)}, ${r.durationMs} ms`;
    },
    spawn: async (n) => {
      const size = 256 * 1024 + Math.floor(rand() * 4 * 1024 * 1024);
      const data = seededBytes(options.seed * 1000 + n, size);
      const proc = await pool.spawn('faulty', ['sh', '-c', 'cat; :', `${MARKER}${n}`], { timeout: 60_000 });
      const chunks: Buffer[] = [];
      proc.stderr.resume();
      const out = (async () => {
        for await (const c of proc.stdout) chunks.push(c as Buffer);
      })();
      const feed = new Promise<void>((resolve) => {
        proc.stdin.on('error', () => resolve());
        Readable.from([data]).pipe(proc.stdin).on('finish', resolve);
      });
      const [status] = await Promise.all([proc.exited, out.catch(() => {}), feed]);
      const got = Buffer.concat(chunks);
      if (status.code !== 0)
        return `cat exited ${status.code}/${status.signal} after ${got.length} of ${size} bytes`;
      return sha256(got) === sha256(data) ? '' : `cat echoed ${got.length} bytes, sent ${size}: hash differs`;
    },
    manifest: async () => {
      const m = await remoteManifest(
        pool,
        { dest: 'faulty', path: `${remoteRoot}/fixed` },
        {
          signal: AbortSignal.timeout(60_000),
        },
      );
      return manifestsEqual(compareManifests(fixedManifest, m)) ? '' : 'manifest of the fixed tree differs';
    },
    push: async (n) => {
      const local = path.join(work, `push-${n}`);
      const names = ['plain.txt', 'with space', '-dash', 'ünï', "q'uote", 'sub/nested.bin'];
      for (const [i, name] of names.entries()) {
        mkdirSync(path.dirname(path.join(local, name)), { recursive: true });
        writeFileSync(path.join(local, name), seededBytes(n * 31 + i, Math.floor(rand() * 200_000)));
      }
      const target = `${remoteRoot}/push/p-${n}`;
      pushes.set(n, [local, target]);
      await push(pool, local, { dest: 'faulty', path: target }, { signal: AbortSignal.timeout(90_000) });
      const [want, got] = await Promise.all([
        localManifest(local),
        remoteManifest(clean, { dest: direct, path: target }),
      ]);
      return manifestsEqual(compareManifests(want, got)) ? '' : 'pushed tree differs from the local one';
    },
    'btrfs-full': (n) => btrfsSend(n, true),
    'btrfs-incr': (n) => btrfsSend(n, false),
    daemon: async (n) => {
      const token = `d${n}x${Math.floor(rand() * 1e9)}`;
      const r = await runCli(
        [
          'ssh',
          '-i',
          sshd.keyPath,
          '-o',
          `UserKnownHostsFile=${proxyKnownHosts}`,
          '-o',
          'StrictHostKeyChecking=yes',
          '-o',
          'ServerAliveInterval=1',
          '-o',
          'ServerAliveCountMax=3',
          '-o',
          'ConnectTimeout=5',
          '-p',
          String(proxy.port),
          `backup@${sshd.host}`,
          `sh -c 'printf %s "$1"' ${MARKER}${n} ${token}`,
        ],
        { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, SSHMUX_PERSIST: '60' } },
      );
      if (r.code === 0)
        return r.stdout.toString() === token ? '' : `daemon session printed ${r.stdout.toString()}`;
      // sshmux's own failure: 255 and a classified message (an unclassified error prints its class name).
      const line = r.stderr.trim().split('\n').at(-1) ?? '';
      if (r.code === 255 && /^sshmux: /.test(line) && !/^sshmux: (\w*Error|Error)\b/.test(line)) {
        throw new DaemonSessionFailed(line);
      }
      return `daemon session exited ${r.code}/${r.signal}: ${r.stderr.trim().slice(0, 300)}`;
    },
  };

  async function btrfsSend(n: number, full: boolean): Promise<string> {
    if (!bt) return 'no btrfs';
    writeFileSync(path.join(vol, `f-${n}`), seededBytes(n, 64 * 1024 + Math.floor(rand() * 2 * 1024 * 1024)));
    const source = path.join(snaps, `s-${n}`);
    execFileSync('btrfs', ['subvolume', 'snapshot', '-r', vol, source], { stdio: 'ignore' });
    const dir = full ? 'full' : 'chain';
    const r = await sendSnapshot(pool, {
      source,
      target: `faulty:${CONTAINER_BTRFS}/soak/${dir}`,
      parent: full ? null : 'auto',
      stallTimeout: 15_000,
      signal: AbortSignal.timeout(120_000),
    });
    const received = path.join(bt.destination, 'soak', dir, `s-${n}`);
    if (r.received.receivedUuid === null || !r.received.readonly)
      return `received ${received} is not finished`;
    const want = treeOf(source);
    const got = treeOf(received);
    return JSON.stringify(want) === JSON.stringify(got) ? '' : `received ${received} differs from its source`;
  }

  /** What a finished (or failed) operation left behind that it must not have. */
  async function leftovers(kind: OpKind, n: number): Promise<string[]> {
    const found: string[] = [];
    for (const p of await waitNoRemote(`${MARKER}${n}( |$)`)) found.push(`remote process left: ${p}`);
    if (kind === 'btrfs-full' || kind === 'btrfs-incr') {
      for (const p of await waitNoRemote('btrfs receive')) found.push(`remote process left: ${p}`);
      for (const d of ['chain', 'full']) {
        for (const b of unfinishedSubvolumes(path.join(bt!.destination, 'soak', d)))
          found.push(`partial subvolume: ${b}`);
      }
    }
    if (kind === 'push') {
      const last = pushes.get(n);
      if (last) {
        const [local, target] = last;
        const want: Manifest = await localManifest(local);
        let got: Manifest;
        try {
          got = await remoteManifest(clean, { dest: direct, path: target });
        } catch {
          got = new Map();
        }
        for (const [p, e] of got) {
          if (p.endsWith('.sshmux-partial')) continue; // a temporary name: kept on purpose for resume
          const w = want.get(p);
          if (e.type === 'file' && (w?.type !== 'file' || w.sha256 !== e.sha256)) {
            found.push(`half-written file under its final name: ${target}/${p}`);
          }
        }
      }
    }
    return found;
  }

  // sshd restarts and refusal windows, in the background while the workers run.
  let running = true;
  const chaos = (async () => {
    let nextRestart = options.restartEveryMs > 0 ? Date.now() + options.restartEveryMs : Infinity;
    while (running) {
      await sleep(500);
      if (!running) break;
      // A fault on a live (pooled, long-lived) connection, counted from its current offset.
      if (rand() < 0.4) proxy.strike();
      if (rand() < 0.03) {
        const ms = 300 + Math.floor(rand() * 2_500);
        proxy.refuse(ms);
        report.faults.refuseWindows++;
      }
      if (Date.now() >= nextRestart) {
        nextRestart = Date.now() + options.restartEveryMs;
        const t0 = Date.now();
        try {
          await sshd.restartSshd();
          report.faults.restarts++;
          for (;;) {
            try {
              await pool.exec('direct', 'true', { timeout: 5_000 });
              break;
            } catch {
              if (Date.now() - t0 > 60_000) throw new Error('no recovery within 60 s');
              await sleep(100);
            }
          }
          report.recoverMs.push(Date.now() - t0);
          log(`sshd restarted; pool recovered in ${Date.now() - t0} ms`);
        } catch (err) {
          report.leaks.push(`sshd restart: ${(err as Error).message}`);
        }
      }
    }
  })();

  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < options.maxOperations && Date.now() - started < options.durationMs) {
      const n = issued++;
      const kind = pickKind(rand(), options.btrfs);
      report.operations++;
      // btrfs sends share a chain and receive directories: one at a time, checks included.
      const one = kind.startsWith('btrfs')
        ? (fn: () => Promise<void>) => btrfsLock.run(fn)
        : (fn: () => Promise<void>) => fn();
      await one(async () => {
        let verdict: 'ok' | 'clean' | 'dirty';
        let why = '';
        let timer: NodeJS.Timeout | undefined;
        try {
          const deadline = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new HungOperation(kind)), OP_DEADLINE_MS);
          });
          const problem = await Promise.race([operations[kind](n), deadline]);
          verdict = problem === '' ? 'ok' : 'dirty';
          why = problem;
        } catch (err) {
          if (err instanceof HungOperation) {
            verdict = 'dirty';
            why = `${err.message}; pool ${JSON.stringify(pool.stats())}`;
          } else if (err instanceof DaemonSessionFailed || isClassified(err)) {
            verdict = 'clean';
            const k = err instanceof DaemonSessionFailed ? 'daemon-255' : (err as { kind: string }).kind;
            report.errorKinds[k] = (report.errorKinds[k] ?? 0) + 1;
            report.examples[k] ??= `${kind}: ${(err as Error).message.split('\n')[0]}`;
            log(`#${n} ${kind} failed cleanly: ${k}: ${(err as Error).message.split('\n')[0]}`);
          } else {
            verdict = 'dirty';
            why = `unclassified ${(err as Error)?.name}: ${(err as Error)?.message}`;
          }
        } finally {
          clearTimeout(timer);
        }
        const left = await within(90_000, 'leftover check', leftovers(kind, n)).catch((err: Error) => [
          err.message,
        ]);
        if (left.length > 0) {
          verdict = 'dirty';
          why = [why, ...left].filter(Boolean).join('; ');
        }
        if (verdict === 'ok') report.succeeded++;
        else if (verdict === 'clean') report.failedCleanly++;
        else {
          report.failedDirty++;
          report.dirty.push(`#${n} ${kind}: ${why}`);
        }
        byKind[kind][verdict]++;
        if (n % 10 === 0) log(`#${n} ${kind} ${verdict} (${Math.round((Date.now() - started) / 1000)} s)`);
      });
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 3 }, worker));
  } finally {
    running = false;
    await within(120_000, 'sshd restart loop', chaos).catch((err: Error) => report.leaks.push(err.message));
    const c = proxy.counts;
    Object.assign(report.faults, { cut: c.cut, stalled: c.stalled, slowed: c.slowed, refused: c.refused });

    // Leaks: channels, remote processes, daemons, sockets, process hooks.
    const channels = pool.stats().openChannels;
    if (channels !== 0) report.leaks.push(`${channels} channel(s) still open after all operations settled`);
    for (const pattern of [MARKER, 'btrfs receive']) {
      const left = await within(30_000, 'remote process check', waitNoRemote(pattern)).catch((err: Error) => [
        err.message,
      ]);
      for (const p of left) report.leaks.push(`remote process: ${p}`);
    }
    await within(
      20_000,
      'sshmux ssh -O exit',
      runCli(['ssh', '-O', 'exit', 'x'], { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir } }),
    ).catch(() => {});
    const daemons = await settle(() => daemonPids(runtimeDir).length, 0, 10_000);
    if (daemons > 0) {
      report.leaks.push(`${daemons} daemon(s) still running after -O exit`);
      for (const pid of daemonPids(runtimeDir)) process.kill(pid, 'SIGKILL');
    }
    for (const [name, p] of [
      ['pool', pool],
      ['check pool', clean],
    ] as const) {
      await within(20_000, `${name}.close()`, p.close()).catch((err: Error) => {
        report.leaks.push(err.message);
        p.destroy();
      });
    }
    await within(10_000, 'proxy.close()', proxy.close()).catch((err: Error) =>
      report.leaks.push(err.message),
    );
    const sockets = await settle(tcpSocketCount, socketsBefore, 5_000);
    if (sockets > socketsBefore) report.leaks.push(`${sockets - socketsBefore} TCP socket(s) still open`);
    hooks.stop();
    for (const u of hooks.unhandled) report.leaks.push(`unhandled rejection: ${u.split('\n')[0]}`);
    for (const u of hooks.uncaught) report.leaks.push(`uncaught exception: ${u.split('\n')[0]}`);
    for (const w of hooks.warnings) report.leaks.push(`process warning: ${w}`);
    report.leaked = report.leaks.length;
    report.durationMs = Date.now() - started;
    rmSync(work, { recursive: true, force: true });
    if (bt) {
      for (const d of ['chain', 'full']) {
        execFileSync('sh', [
          '-c',
          `btrfs subvolume delete ${path.join(bt.destination, 'soak', d)}/* 2>/dev/null; true`,
        ]);
      }
    }
  }
  return report;
}

/** `p`, or a rejection naming `what` once `ms` pass: no step of the soak may hang it. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

class HungOperation extends Error {
  constructor(kind: string) {
    super(`${kind} did not settle within ${OP_DEADLINE_MS} ms`);
  }
}

/** `sshmux ssh` exited 255 with a classified message: a clean failure of a daemon session. */
class DaemonSessionFailed extends Error {}

function daemonPids(runtimeDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', `--runtime-dir ${runtimeDir}`], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

/** The soak's result as a fixed-width table. */
export function formatSoakTable(r: SoakReport): string {
  const rec = [...r.recoverMs].sort((a, b) => a - b);
  const median = rec.length ? rec[Math.floor(rec.length / 2)] : undefined;
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    ['operations', String(r.operations)],
    [
      'faults injected',
      `${r.faults.cut + r.faults.stalled + r.faults.slowed + r.faults.refused + r.faults.restarts} ` +
        `(cut ${r.faults.cut}, stall ${r.faults.stalled}, slow ${r.faults.slowed}, refused ${r.faults.refused} ` +
        `in ${r.faults.refuseWindows} windows, sshd restarts ${r.faults.restarts})`,
    ],
    ['succeeded (verified)', String(r.succeeded)],
    ['failed cleanly', `${r.failedCleanly} ${JSON.stringify(r.errorKinds)}`],
    ['failed dirty', String(r.failedDirty)],
    ['leaked', String(r.leaked)],
    [
      'recovery after sshd restart',
      median === undefined ? 'n/a' : `median ${median} ms, max ${rec.at(-1)} ms (${rec.length} restarts)`,
    ],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v}`);
  const kinds = Object.entries(r.byKind)
    .filter(([, t]) => t.ok + t.clean + t.dirty > 0)
    .map(([k, t]) => `| ${k.padEnd(w)} | ok ${t.ok}, failed cleanly ${t.clean}, dirty ${t.dirty}`);
  const detail = [...r.dirty.map((d) => `dirty: ${d}`), ...r.leaks.map((l) => `leak: ${l}`)];
  return [...lines, `|${'-'.repeat(w + 2)}|`, ...kinds, ...detail].join('\n');
}
