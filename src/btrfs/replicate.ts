import { parseRemotePath } from '../config/remote-path.js';
import { ConfigError } from '../errors.js';
import type { RemoteRunner } from '../pool/types.js';
import type { BtrfsHost } from './host.js';
import { hostError, requireReceiveDir, requireSnapshot, splitPath, subvolumesIn } from './inspect.js';
import { LocalHost } from './local-host.js';
import { type ReplicateOptions, type ResolvedReplicateOptions, resolveReplicateOptions } from './options.js';
import { correlate, selectParent } from './parent.js';
import { type HostCapabilities, probeHost } from './probe.js';
import { receiveOutOfSpace } from './receive-failure.js';
import { RemoteHost } from './remote-host.js';
import { digestToken, receiveStage, sendStage } from './stream-digest.js';
import { estimateSendSize } from './stream-size.js';
import { type SubvolumeInfo, streamUuid } from './subvolume-show.js';
import { runTransfer, TransferFailure } from './transfer.js';
import { BtrfsTransferError } from './transfer-error.js';
import {
  cleanupPartial,
  discardDigestRecords,
  type End,
  type Proof,
  type ProofInput,
  proveTransfer,
  proveWithRetry,
  where,
} from './verify.js';

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
  /**
   * SHA-256 of the stream as btrfs send wrote it, equal to that of what btrfs receive read
   * (null for `already-there`).
   */
  sha256: string | null;
  /** What was checked to call the transfer done, in words. */
  verification: string;
}

function remoteEnd(pool: RemoteRunner, spec: string): End {
  const { dest, path } = parseRemotePath(spec);
  return { host: new RemoteHost(pool, dest), path };
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
        sha256: null,
        verification: `read-only, Received UUID ${id}`,
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
  // Sized by a metadata-only `btrfs send --no-data` beside the real one (compressed byte counts
  // are not comparable with it); stopped when the transfer ends.
  const sizing = new AbortController();
  const total =
    opts.estimateSize && opts.compress === null
      ? estimateSendSize(sender.host, sendArgv, sizing.signal).catch((err: unknown) => {
          log.debug({ err }, 'btrfs: no size estimate');
          return null;
        })
      : null;
  const token = digestToken();
  const sLocal = sender.host.destination === undefined;
  const rLocal = receiver.host.destination === undefined;
  const proof: Omit<ProofInput, 'sendDigest' | 'receiveDigest'> = {
    sender,
    receiver,
    caps: rCaps,
    target,
    uuid: id,
    incremental: parent !== null,
    token,
  };
  const done = (bytes: number, p: Proof, note: string): ReplicateResult => ({
    status: 'sent',
    name,
    path: target,
    parent: parent?.path ?? null,
    reason,
    bytes,
    durationMs: performance.now() - started,
    sourceUuid: id,
    received: p.received,
    sha256: p.sha256,
    verification: `read-only, Received UUID ${id}, stream SHA-256 ${p.sha256} on both ends${note}`,
  });
  try {
    const t = await runTransfer({
      sender: sender.host,
      // A local end is digested by this process (OpenSSL, no tee), a remote one by its stage.
      senderStages: [sLocal ? sendArgv : sendStage(token, sendArgv), ...zstd(sCaps, ['-c'])],
      receiver: receiver.host,
      receiverStages: [
        ...zstd(rCaps, ['-d', '-c']),
        receiveStage(rLocal ? '' : token, receiver.path, name, rCaps.btrfs),
      ],
      ...(sLocal && { senderDigest: 'output' as const }),
      ...(rLocal && { receiverDigest: 'input' as const, digestPipe: opts.compress === null }),
      rateLimit: opts.rateLimit,
      onProgress: opts.onProgress,
      progressInterval: opts.progressInterval,
      total,
      stallTimeout: opts.stallTimeout,
      signal: opts.signal,
    });
    sizing.abort();
    const p = await proveTransfer({ ...proof, sendDigest: t.sendDigest, receiveDigest: t.receiveDigest });
    log.info({ bytes: t.bytes, sha256: p.sha256 }, 'received and verified');
    return done(t.bytes, p, '');
  } catch (err) {
    sizing.abort();
    const kind = err instanceof TransferFailure ? err.kind : ((err as { kind?: string }).kind ?? 'local');
    // A connection that died after both ends exited 0 lost only their statuses: what they left
    // behind (the subvolume, both digest records) proves the transfer over a new connection.
    if (err instanceof TransferFailure && (kind === 'network' || kind === 'channel')) {
      const p = await proveWithRetry({ ...proof, ...err.digests }).catch(() => null);
      if (p) {
        log.warn({ err }, 'connection lost after both ends finished; transfer proven complete');
        return done(
          err.bytes,
          p,
          ` (the connection dropped after both ends exited 0: ${err.summary}; checked again over a new one)`,
        );
      }
    }
    const cleanup = await cleanupPartial(receiver, rCaps, target, id, kind);
    await discardDigestRecords(sender, receiver, token);
    log.warn({ cleanup }, 'btrfs transfer failed');
    if (err instanceof TransferFailure) {
      const full = receiveOutOfSpace(
        err.receiver,
        receiver.host.destination !== undefined,
        where(receiver.host, target),
      );
      throw new BtrfsTransferError(
        full ? 'remote' : err.kind,
        full?.summary ??
          `btrfs ${where(sender.host, sender.path)} -> ${where(receiver.host, receiver.path)}: ${err.summary}`,
        { sender: err.sender, receiver: err.receiver, cleanup, bytes: err.bytes },
        {
          cause: err.cause,
          destination: receiver.host.destination ?? sender.host.destination,
          ...(full && { code: full.code }),
        },
      );
    }
    if (err instanceof Error) err.message += `\n  cleanup: ${cleanup}`;
    throw err;
  }
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
