import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localManifest, type Manifest, remoteManifest } from '../../src/index.js';
import { unfinishedSubvolumes } from './checks.js';
import { MARKER, type OpContext } from './ops.js';
import type { OpKind } from './report.js';

/** Receive directories under `<btrfs>/soak/` (chain: incremental, full, killed: sends whose client was killed). */
export const RECEIVE_DIRS = ['chain', 'full', 'killed'] as const;

/**
 * Container processes matching `pattern` (of `user`, when given): over the check pool's direct
 * connection, which costs a channel, not a `docker exec` (the fallback when sshd is restarting).
 */
async function remoteProcesses(ctx: OpContext, pattern: string, user?: string): Promise<string[]> {
  const argv = ['pgrep', '-a', ...(user ? ['-u', user] : []), '-f', pattern];
  const out = await ctx.clean
    .exec(ctx.direct, argv, { encoding: 'utf8', timeout: 10_000 })
    .then((r) => r.stdout)
    .catch(async () => (await ctx.sshd.exec(argv)).stdout);
  return out.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
}

/** Container processes matching `pattern` still running after up to 15 s. */
export async function waitNoRemote(ctx: OpContext, pattern: string, user?: string): Promise<string[]> {
  const end = Date.now() + 15_000;
  for (;;) {
    const left = await remoteProcesses(ctx, pattern, user);
    if (left.length === 0 || Date.now() > end) return left;
    await sleep(300);
  }
}

/** Files under a push target whose content is not the local one's: a half-written file at a final name. */
async function halfWritten(ctx: OpContext, local: string, target: string): Promise<string[]> {
  const want: Manifest = await localManifest(local);
  let got: Manifest;
  try {
    got = await remoteManifest(ctx.clean, { dest: ctx.direct, path: target });
  } catch {
    got = new Map();
  }
  const found: string[] = [];
  for (const [p, e] of got) {
    if (p.endsWith('.sshmux-partial')) continue; // a temporary name: kept on purpose for resume
    const w = want.get(p);
    if (e.type === 'file' && (w?.type !== 'file' || w.sha256 !== e.sha256)) {
      found.push(`half-written file under its final name: ${target}/${p}`);
    }
  }
  return found;
}

/** What a finished (or failed) operation left behind that it must not have. */
export async function leftovers(ctx: OpContext, kind: OpKind, n: number): Promise<string[]> {
  const found: string[] = [];
  for (const p of await waitNoRemote(ctx, `${MARKER}${n}( |$)`)) found.push(`remote process left: ${p}`);
  if (kind === 'btrfs-full' || kind === 'btrfs-incr' || kind === 'kill-btrfs') {
    for (const p of await waitNoRemote(ctx, 'btrfs receive')) found.push(`remote process left: ${p}`);
    for (const d of RECEIVE_DIRS) {
      for (const b of unfinishedSubvolumes(path.join(ctx.bt!.destination, 'soak', d)))
        found.push(`partial subvolume: ${b}`);
    }
  }
  if (kind === 'kill-push') {
    // The killed push logged in as root (nothing else does): its session and sftp-server must be gone.
    for (const p of await waitNoRemote(ctx, 'sshd: root|sftp-server', 'root'))
      found.push(`remote process left: ${p}`);
  }
  const last = ctx.pushes.get(n);
  if (last) {
    ctx.pushes.delete(n);
    found.push(...(await halfWritten(ctx, ...last)));
  }
  return found;
}
