import { parseRemotePath } from '../config/remote-path.js';
import { ConfigError } from '../errors.js';
import type { RemoteRunner } from '../pool/types.js';
import { type AttemptContext, type AttemptDone, attempt, PrefixMismatch } from './attempt.js';
import type { BtrfsHost } from './host.js';
import { hostError, requireReceiveDir, requireSnapshot, splitPath, subvolumesIn } from './inspect.js';
import { LocalHost } from './local-host.js';
import { type ReplicateOptions, type ResolvedReplicateOptions, resolveReplicateOptions } from './options.js';
import { correlate, selectParent } from './parent.js';
import { type HostCapabilities, probeHost } from './probe.js';
import { RemoteHost } from './remote-host.js';
import { discardSpool, inspectSpool, spoolIdentity, spoolPath } from './resume.js';
import { planResume, replaceOwnPartial } from './resume-plan.js';
import { estimateSendSize } from './stream-size.js';
import { type SubvolumeInfo, streamUuid } from './subvolume-show.js';
import { type End, where } from './verify.js';

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
  /**
   * Bytes of the stream an interrupted earlier run had delivered, replayed from the receiver's
   * spool instead of being sent again (0 for a transfer from the start). `bytes` counts only
   * what crossed this time.
   */
  resumedBytes: number;
  /** How resume went, in words: resumed, restarted and why, or why the transfer is not resumable. */
  resume: string;
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
  const [dirCheck, listing, spoolCheck] = await Promise.allSettled([
    requireReceiveDir(receiver.host, rCaps, receiver.path, name),
    subvolumesIn(receiver.host, rCaps, receiver.path),
    inspectSpool(receiver.host, receiver.path, name),
  ]);
  if (dirCheck.status === 'rejected') throw dirCheck.reason;
  if (listing.status === 'rejected') throw listing.reason;
  if (spoolCheck.status === 'rejected') throw spoolCheck.reason;
  const { nameTaken } = dirCheck.value;
  const atDestination = listing.value;
  const spoolState = spoolCheck.value;
  const id = streamUuid(source);
  const target = `${receiver.path.replace(/\/+$/, '')}/${name}`;
  const same = atDestination.find((s) => s.name === name);
  let replacedPartial = false;
  if (nameTaken && same && same.receivedUuid === id && same.readonly) {
    log.info('already there');
    if (spoolState.exists) await discardSpool(receiver.host, spoolPath(receiver.path, name));
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
      resumedBytes: 0,
      resume: 'nothing to resume',
    };
  }
  if (nameTaken) {
    replacedPartial = await replaceOwnPartial(receiver.host, rCaps, target, same, spoolState, log);
    if (!replacedPartial) {
      throw hostError(
        receiver.host,
        'SSHMUX_ERR_BTRFS_EXISTS',
        `${where(receiver.host, target)} already exists and is not a copy of ${where(sender.host, sender.path)} ` +
          `(its Received UUID is ${same?.receivedUuid ?? '-'}, the source's is ${id}); refusing to overwrite it`,
      );
    }
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
  const clones: SubvolumeInfo[] = [];
  for (const clone of opts.clones)
    clones.push(await requireSnapshot(sender.host, sCaps, clone, 'clone source'));
  log.info({ parent: parent?.path ?? null }, reason);

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
  const identity = spoolIdentity(source, parent, clones);
  let plan = await planResume(receiver.host, receiver.path, name, spoolState, identity, opts);
  const ctx: AttemptContext = {
    sender,
    receiver,
    sCaps,
    rCaps,
    name,
    target,
    uuid: id,
    incremental: parent !== null,
    sendArgv,
    identity,
    total,
    opts,
    log,
  };
  let resume =
    plan.spool === null ? plan.note : 'from the start, spooled on the receiver (spool removed once verified)';
  if (plan.offset > 0)
    resume = `resumed: ${plan.offset} bytes replayed from the receiver's spool, the rest sent`;
  if (replacedPartial) {
    resume +=
      '; replaced the partial subvolume an interrupted run left (recognised by the UUID its spool recorded)';
  }
  try {
    let t: AttemptDone;
    try {
      t = await attempt(ctx, plan);
    } catch (err) {
      if (!(err instanceof PrefixMismatch)) throw err;
      // btrfs send did not regenerate the spooled bytes: nothing of them can be used.
      log.warn({ offset: plan.offset }, 'the regenerated stream differs from the spooled prefix: restarting');
      resume = `restarted from the start: btrfs send did not regenerate the ${plan.offset} spooled bytes (SHA-256 differs); spool discarded`;
      plan = { ...plan, offset: 0, sha256: '', cap: opts.spoolLimit ?? plan.cap - plan.offset };
      t = await attempt(ctx, plan);
    }
    sizing.abort();
    log.info({ bytes: t.bytes, sha256: t.proof.sha256, resumedFrom: plan.offset }, 'received and verified');
    const from = plan.offset > 0 ? `, ${plan.offset} of them replayed from the receiver's spool` : '';
    return {
      status: 'sent',
      name,
      path: target,
      parent: parent?.path ?? null,
      reason,
      bytes: t.bytes,
      durationMs: performance.now() - started,
      sourceUuid: id,
      received: t.proof.received,
      sha256: t.proof.sha256,
      verification: `read-only, Received UUID ${id}, stream SHA-256 ${t.proof.sha256} on both ends${from}${t.note}`,
      resumedBytes: plan.offset,
      resume,
    };
  } finally {
    sizing.abort();
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
