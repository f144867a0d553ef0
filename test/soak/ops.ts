import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { HostConfig } from '../../src/config/host-config.js';
import {
  compareManifests,
  localManifest,
  type Manifest,
  manifestsEqual,
  push,
  remoteManifest,
  type SshPool,
  sendSnapshot,
} from '../../src/index.js';
import type { BtrfsPair } from '../helpers/btrfs.js';
import { CONTAINER_BTRFS, type StartedSshd } from '../helpers/sshd.js';
import { runCli } from '../integration/mux-helpers.js';
import { seededBytes, sha256, treeOf } from './checks.js';
import type { BASE_KINDS } from './report.js';

/** Marks every remote command of operation n (`soak-op-n`), so a leftover process is found by it. */
export const MARKER = 'soak-op-';

/** One operation: resolves with a verification failure text, or '' when verified; throws the op's error. */
export type Operation = (n: number) => Promise<string>;

/** What the operations share: the sshd, the pools, the proxied address and the fixtures. */
export interface OpContext {
  readonly sshd: StartedSshd;
  readonly seed: number;
  readonly rand: () => number;
  /** Local scratch directory (removed at the end). */
  readonly work: string;
  readonly remoteRoot: string;
  /** Operations go through it to `'faulty'` (the fault proxy); `'direct'` is sshd itself. */
  readonly pool: SshPool;
  /** Checks go around the proxy, so a fault never makes a check lie. */
  clean: SshPool;
  readonly direct: HostConfig;
  readonly proxyPort: number;
  /** known_hosts naming the proxy's port, for `sshmux` processes. */
  readonly proxyKnownHosts: string;
  /** XDG_RUNTIME_DIR of daemon session `n`. */
  readonly daemonDir: (n: number) => string;
  /** SSHMUX_PERSIST of the daemons (seconds). */
  readonly daemonPersist: string;
  readonly fixedManifest: Manifest;
  readonly bt: BtrfsPair | undefined;
  /** Host paths: the writable subvolume and the snapshots beside it. */
  readonly vol: string;
  readonly snaps: string;
  /** Local tree and remote target of each push operation, for its leftover check. */
  readonly pushes: Map<number, [string, string]>;
}

/** `sshmux ssh` exited 255 (or another sshmux command 1/2) with a classified message: a clean failure. */
export class CliFailed extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The verdict on an `sshmux` process that did not exit 0: a classified failure (its exit code and a
 * `sshmux: ` (or `scp: `) line that is no class name and no stack) throws CliFailed; anything else is returned
 * as the dirty description.
 */
export function cliFailure(
  what: string,
  r: { code: number | null; signal: NodeJS.Signals | null; stderr: string },
  codes: readonly number[],
): string {
  const lines = r.stderr.trim().split('\n');
  const line = lines.findLast((l) => /^(sshmux|scp|ssh): /.test(l)) ?? '';
  const stack = lines.some((l) => /^\s+at \S/.test(l));
  if (
    r.code !== null &&
    codes.includes(r.code) &&
    line &&
    !stack &&
    !/^(sshmux|scp|ssh): (\w*Error|Error)\b/.test(line)
  ) {
    throw new CliFailed(`${what}-${r.code}`, line);
  }
  return `${what} exited ${r.code}/${r.signal}: ${r.stderr.trim().slice(0, 300)}`;
}

/** The short soak's operations (the long one adds those of long-ops.ts). */
export function baseOperations(ctx: OpContext): Record<(typeof BASE_KINDS)[number], Operation> {
  const { pool, rand, remoteRoot } = ctx;
  return {
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
      const data = seededBytes(ctx.seed * 1000 + n, size);
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
        { signal: AbortSignal.timeout(60_000) },
      );
      return manifestsEqual(compareManifests(ctx.fixedManifest, m))
        ? ''
        : 'manifest of the fixed tree differs';
    },
    push: (n) => pushTree(ctx, n, `${remoteRoot}/push/p-${n}`, 200_000),
    'btrfs-full': (n) => btrfsSend(ctx, n, true),
    'btrfs-incr': (n) => btrfsSend(ctx, n, false),
    daemon: (n) => daemonSession(ctx, n, ctx.daemonDir(n)),
  };
}

/** The fixture tree of push n: six awkwardly named files of up to `maxSize` bytes each. */
export function pushFixture(ctx: OpContext, n: number, maxSize: number): string {
  const local = path.join(ctx.work, `push-${n}`);
  const names = ['plain.txt', 'with space', '-dash', 'ünï', "q'uote", 'sub/nested.bin'];
  for (const [i, name] of names.entries()) {
    mkdirSync(path.dirname(path.join(local, name)), { recursive: true });
    writeFileSync(path.join(local, name), seededBytes(n * 31 + i, Math.floor(ctx.rand() * maxSize)));
  }
  return local;
}

/** Push n's tree to `target` through the proxy and compare it with the remote one around it. */
export async function pushTree(ctx: OpContext, n: number, target: string, maxSize: number): Promise<string> {
  const local = pushFixture(ctx, n, maxSize);
  ctx.pushes.set(n, [local, target]);
  await push(ctx.pool, local, { dest: 'faulty', path: target }, { signal: AbortSignal.timeout(90_000) });
  return sameTree(ctx, local, target);
}

/** '' when the remote `target` holds exactly the local tree. */
export async function sameTree(ctx: OpContext, local: string, target: string): Promise<string> {
  const [want, got] = await Promise.all([
    localManifest(local),
    remoteManifest(ctx.clean, { dest: ctx.direct, path: target }),
  ]);
  return manifestsEqual(compareManifests(want, got))
    ? ''
    : `pushed tree ${target} differs from the local one`;
}

/** Snapshot the soak volume (with a new file of n's bytes) as `s-n`; returns its host path. */
export function snapshot(ctx: OpContext, n: number): string {
  writeFileSync(
    path.join(ctx.vol, `f-${n}`),
    seededBytes(n, 64 * 1024 + Math.floor(ctx.rand() * 2 * 1024 * 1024)),
  );
  const source = path.join(ctx.snaps, `s-${n}`);
  execFileSync('btrfs', ['subvolume', 'snapshot', '-r', ctx.vol, source], { stdio: 'ignore' });
  return source;
}

/** '' when the received copy of `source` under receive directory `dir` is finished and identical. */
export function receivedSame(ctx: OpContext, source: string, dir: string): string {
  const received = path.join(ctx.bt!.destination, 'soak', dir, path.basename(source));
  const want = treeOf(source);
  let got: Record<string, string>;
  try {
    got = treeOf(received);
  } catch (err) {
    return `received ${received} is missing: ${(err as Error).message}`;
  }
  return JSON.stringify(want) === JSON.stringify(got) ? '' : `received ${received} differs from its source`;
}

async function btrfsSend(ctx: OpContext, n: number, full: boolean): Promise<string> {
  if (!ctx.bt) return 'no btrfs';
  const source = snapshot(ctx, n);
  const dir = full ? 'full' : 'chain';
  const r = await sendSnapshot(ctx.pool, {
    source,
    target: `faulty:${CONTAINER_BTRFS}/soak/${dir}`,
    parent: full ? null : 'auto',
    stallTimeout: 15_000,
    signal: AbortSignal.timeout(120_000),
  });
  if (r.received.receivedUuid === null || !r.received.readonly)
    return `received ${dir}/s-${n} is not finished`;
  return receivedSame(ctx, source, dir);
}

/** The `sshmux ssh` arguments that reach the proxy as backup (daemon sessions). */
export function sshArgs(ctx: OpContext): string[] {
  return [
    '-i',
    ctx.sshd.keyPath,
    '-o',
    `UserKnownHostsFile=${ctx.proxyKnownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ServerAliveInterval=1',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'ConnectTimeout=5',
    '-p',
    String(ctx.proxyPort),
    `backup@${ctx.sshd.host}`,
  ];
}

/** One short-lived `sshmux ssh` process whose session the daemon of `runtimeDir` carries. */
export async function daemonSession(ctx: OpContext, n: number, runtimeDir: string): Promise<string> {
  const token = `d${n}x${Math.floor(ctx.rand() * 1e9)}`;
  const r = await runCli(['ssh', ...sshArgs(ctx), `sh -c 'printf %s "$1"' ${MARKER}${n} ${token}`], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, SSHMUX_PERSIST: ctx.daemonPersist },
  });
  if (r.code === 0)
    return r.stdout.toString() === token ? '' : `daemon session printed ${r.stdout.toString()}`;
  return cliFailure('daemon', r, [255]);
}
