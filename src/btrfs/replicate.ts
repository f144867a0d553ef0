import { setTimeout as sleep } from 'node:timers/promises';
import { parseRemotePath } from '../config/remote-path.js';
import { ConfigError, VerifyError } from '../errors.js';
import type { RemoteRunner } from '../pool/types.js';
import type { BtrfsHost } from './host.js';
import {
  hostError,
  requireReceiveDir,
  requireSnapshot,
  showSubvolume,
  splitPath,
  subvolumesIn,
} from './inspect.js';
import { LocalHost } from './local-host.js';
import { type ReplicateOptions, type ResolvedReplicateOptions, resolveReplicateOptions } from './options.js';
import { correlate, selectParent } from './parent.js';
import { type HostCapabilities, probeHost } from './probe.js';
import { RemoteHost } from './remote-host.js';
import { parseDuTotal, type SubvolumeInfo, streamUuid } from './subvolume-show.js';
import { runTransfer, TransferFailure } from './transfer.js';
import { BtrfsTransferError } from './transfer-error.js';

/** What a replication did. */
export interface ReplicateResult {
  /** `sent`, or `already-there` when the destination already held a received copy (nothing sent). */
  status: 'sent' | 'already-there';
  /** The subvolume's name (same on both ends). */
  name: string;
  /** Path of the received subvolume on the receiving host. */
  path: string;
  /** Incremental parent on the sending host, null for a full send. */
  parent: string | null;
  /** Why this parent (or a full send) was chosen. */
  reason: string;
  /** Bytes of the stream as it crossed this process (compressed ones with `compress`). */
  bytes: number;
  /** Milliseconds the whole replication took, verification included. */
  durationMs: number;
  /** The UUID the stream carried, now the destination's Received UUID. */
  sourceUuid: string;
  /** The verified destination subvolume. */
  received: SubvolumeInfo;
}

interface End {
  host: BtrfsHost;
  path: string;
}

function remoteEnd(pool: RemoteRunner, spec: string): End {
  const { dest, path } = parseRemotePath(spec);
  return { host: new RemoteHost(pool, dest), path };
}

const where = (host: BtrfsHost, p: string) =>
  host.destination === undefined ? p : `${host.destination}:${p}`;

async function estimateSize(
  host: BtrfsHost,
  caps: HostCapabilities,
  p: string,
  opts: ResolvedReplicateOptions,
): Promise<number | null> {
  try {
    const r = await host.run([...caps.btrfs, 'filesystem', 'du', '-s', '--raw', p], {
      signal: AbortSignal.timeout(10_000),
    });
    return r.code === 0 ? parseDuTotal(r.stdout) : null;
  } catch (err) {
    opts.logger.debug({ err }, 'btrfs: no size estimate');
    return null;
  }
}

/** Delete the partial subvolume only when this transfer made it: absent before, no Received UUID now. */
async function cleanupPartial(
  receiver: End,
  caps: HostCapabilities,
  name: string,
  kind: string,
): Promise<string> {
  const target = `${receiver.path.replace(/\/+$/, '')}/${name}`;
  // After a dropped connection the remote receive may still be draining its pipe for a moment.
  if (kind === 'network' || kind === 'channel') await sleep(1_000);
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const info = await showSubvolume(receiver.host, caps, target);
      if (info === 'missing') return `nothing to remove at ${where(receiver.host, target)}`;
      if (info === 'other') return `left ${where(receiver.host, target)}: not a subvolume`;
      if (info.receivedUuid !== null)
        return `left ${where(receiver.host, target)}: it carries a Received UUID`;
      const r = await receiver.host.run([...caps.btrfs, 'subvolume', 'delete', target]);
      if (r.code === 0) return `removed partial subvolume ${where(receiver.host, target)}`;
      lastError = r.stderr.trim();
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(1_000 * (attempt + 1));
  }
  return `could not remove partial subvolume ${where(receiver.host, target)}: ${lastError}`;
}

async function replicate(
  sender: End,
  receiver: End,
  opts: ResolvedReplicateOptions,
): Promise<ReplicateResult> {
  const started = performance.now();
  const log = opts.logger.child({
    btrfs: `${where(sender.host, sender.path)} -> ${where(receiver.host, receiver.path)}`,
  });
  // The source is checked while the receiver is probed; a bad source is reported first.
  const [sent, recv] = await Promise.allSettled([
    probeHost(sender.host, opts.signal).then(
      async (caps) => [caps, await requireSnapshot(sender.host, caps, sender.path)] as const,
    ),
    probeHost(receiver.host, opts.signal),
  ]);
  if (sent.status === 'rejected') throw sent.reason;
  if (recv.status === 'rejected') throw recv.reason;
  const [sCaps, source] = sent.value;
  const rCaps = recv.value;
  if (opts.compress === 'zstd') {
    const missing = [
      [sender.host, sCaps],
      [receiver.host, rCaps],
    ].find(([, caps]) => (caps as HostCapabilities).zstdPath === null);
    if (missing) {
      const host = missing[0] as BtrfsHost;
      throw hostError(
        host,
        'SSHMUX_ERR_BTRFS_NO_ZSTD',
        `${host.label}: zstd not found; install zstd or send without compression`,
      );
    }
  }
  const { dir: sourceDir, name } = splitPath(sender.path);
  // Both in one round trip's time; the directory's own problem is the one to report.
  const [dirCheck, listing] = await Promise.allSettled([
    requireReceiveDir(receiver.host, rCaps, receiver.path, name),
    subvolumesIn(receiver.host, rCaps, receiver.path),
  ]);
  if (dirCheck.status === 'rejected') throw dirCheck.reason;
  if (listing.status === 'rejected') throw listing.reason;
  const { nameTaken } = dirCheck.value;
  const atDestination = listing.value;
  const id = streamUuid(source);
  const target = `${receiver.path.replace(/\/+$/, '')}/${name}`;
  const same = atDestination.find((s) => s.name === name);
  if (nameTaken) {
    if (same && same.receivedUuid === id && same.readonly) {
      log.info('already there');
      return {
        status: 'already-there',
        name,
        path: target,
        parent: null,
        reason: `already there: ${where(receiver.host, target)} was received from ${id}`,
        bytes: 0,
        durationMs: performance.now() - started,
        sourceUuid: id,
        received: same,
      };
    }
    throw hostError(
      receiver.host,
      'SSHMUX_ERR_BTRFS_EXISTS',
      `${where(receiver.host, target)} already exists and is not a copy of ${where(sender.host, sender.path)} ` +
        `(its Received UUID is ${same?.receivedUuid ?? '-'}, the source's is ${id}); refusing to overwrite it`,
    );
  }

  let parent: SubvolumeInfo | null = null;
  let reason: string;
  if (opts.parent === 'auto') {
    const siblings = await subvolumesIn(sender.host, sCaps, sourceDir);
    ({ parent, reason } = selectParent(source, siblings, atDestination));
  } else if (opts.parent === null) {
    reason = 'full send: no parent requested';
  } else {
    parent = await requireSnapshot(sender.host, sCaps, opts.parent, 'parent');
    const match = correlate(parent, atDestination);
    if (!match) {
      throw hostError(
        receiver.host,
        'SSHMUX_ERR_BTRFS_NO_PARENT',
        `parent ${where(sender.host, opts.parent)} has no copy in ${where(receiver.host, receiver.path)} ` +
          `(no read-only subvolume there with Received UUID ${streamUuid(parent)}); send it first or drop --parent`,
      );
    }
    reason = `incremental from ${parent.name} (requested): the destination has it as ${match.name}`;
  }
  for (const clone of opts.clones) await requireSnapshot(sender.host, sCaps, clone, 'clone source');
  log.info({ parent: parent?.path ?? null }, reason);

  const total =
    opts.estimateSize && parent === null && opts.compress === null
      ? await estimateSize(sender.host, sCaps, sender.path, opts)
      : null;
  const zstd = (caps: HostCapabilities, args: string[]) =>
    opts.compress ? [[caps.zstdPath!, '-q', ...args]] : [];
  const sendArgv = [
    ...sCaps.btrfs,
    'send',
    '-q',
    ...(parent ? ['-p', parent.path] : []),
    ...opts.clones.flatMap((c) => ['-c', c]),
    sender.path,
  ];
  try {
    const { bytes } = await runTransfer({
      sender: sender.host,
      senderStages: [sendArgv, ...zstd(sCaps, ['-c'])],
      receiver: receiver.host,
      receiverStages: [...zstd(rCaps, ['-d', '-c']), [...rCaps.btrfs, 'receive', '-q', '-e', receiver.path]],
      rateLimit: opts.rateLimit,
      onProgress: opts.onProgress,
      progressInterval: opts.progressInterval,
      total,
      stallTimeout: opts.stallTimeout,
      signal: opts.signal,
    });
    const received = await verifyReceived(receiver, rCaps, target, id, parent !== null);
    log.info({ bytes }, 'received and verified');
    return {
      status: 'sent',
      name,
      path: target,
      parent: parent?.path ?? null,
      reason,
      bytes,
      durationMs: performance.now() - started,
      sourceUuid: id,
      received,
    };
  } catch (err) {
    const kind = err instanceof TransferFailure ? err.kind : ((err as { kind?: string }).kind ?? 'local');
    const cleanup = await cleanupPartial(receiver, rCaps, name, kind);
    log.warn({ cleanup }, 'btrfs transfer failed');
    if (err instanceof TransferFailure) {
      throw new BtrfsTransferError(
        err.kind,
        `btrfs ${where(sender.host, sender.path)} -> ${where(receiver.host, receiver.path)}: ${err.summary}`,
        { sender: err.sender, receiver: err.receiver, cleanup, bytes: err.bytes },
        { cause: err.cause, destination: receiver.host.destination ?? sender.host.destination },
      );
    }
    if (err instanceof Error) err.message += `\n  cleanup: ${cleanup}`;
    throw err;
  }
}

async function verifyReceived(
  receiver: End,
  caps: HostCapabilities,
  target: string,
  uuid: string,
  incremental: boolean,
): Promise<SubvolumeInfo> {
  const info = await showSubvolume(receiver.host, caps, target);
  const at = where(receiver.host, target);
  const destination = receiver.host.destination;
  if (info === 'missing' || info === 'other') {
    throw new VerifyError(`btrfs receive exited 0 but ${at} is not a subvolume`, { destination });
  }
  const problems = [
    info.readonly ? '' : 'it is not read-only',
    info.receivedUuid === uuid ? '' : `its Received UUID is ${info.receivedUuid ?? '-'}, expected ${uuid}`,
    !incremental || info.parentUuid !== null ? '' : 'it has no Parent UUID although the send was incremental',
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new VerifyError(`verification of ${at} failed: ${problems.join('; ')}`, { destination });
  }
  return info;
}

/** Send a local read-only snapshot to `dest:DIR` (incremental when a parent correlates), verified. */
export async function sendSnapshot(pool: RemoteRunner, options: ReplicateOptions): Promise<ReplicateResult> {
  const opts = resolveReplicateOptions(options);
  if (/^[^/]*:/.test(opts.source) && !opts.source.startsWith('./')) {
    throw new ConfigError(
      `sendSnapshot: \`source\` is a local path, got \`${opts.source}\` (use pullSnapshot or relaySnapshot)`,
    );
  }
  return replicate({ host: new LocalHost(), path: opts.source }, remoteEnd(pool, opts.target), opts);
}

/** Receive `dest:SNAPSHOT` into a local directory on btrfs, verified. */
export async function pullSnapshot(pool: RemoteRunner, options: ReplicateOptions): Promise<ReplicateResult> {
  const opts = resolveReplicateOptions(options);
  return replicate(remoteEnd(pool, opts.source), { host: new LocalHost(), path: opts.target }, opts);
}

/** Stream `a:SNAPSHOT` to `b:DIR` through this process (both ends pooled), verified. */
export async function relaySnapshot(pool: RemoteRunner, options: ReplicateOptions): Promise<ReplicateResult> {
  const opts = resolveReplicateOptions(options);
  return replicate(remoteEnd(pool, opts.source), remoteEnd(pool, opts.target), opts);
}
