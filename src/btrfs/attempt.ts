import type { Logger } from '../logger.js';
import type { ResolvedReplicateOptions } from './options.js';
import type { HostCapabilities } from './probe.js';
import { receiveOutOfSpace } from './receive-failure.js';
import { discardSpool, prepareSpool } from './resume.js';
import type { ResumePlan } from './resume-plan.js';
import { PREFIX_MISMATCH, skipStage, spoolStage } from './resume-stages.js';
import { digestToken, receiveStage, sendStage } from './stream-digest.js';
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

/** What one stream from sender to receiver needs, whatever part of it is sent. */
export interface AttemptContext {
  sender: End;
  receiver: End;
  sCaps: HostCapabilities;
  rCaps: HostCapabilities;
  /** The subvolume name, and its path on the receiving host. */
  name: string;
  target: string;
  /** The stream's UUID. */
  uuid: string;
  incremental: boolean;
  sendArgv: readonly string[];
  /** The spool's identity record (see spoolIdentity). */
  identity: string;
  /** The whole stream's estimated size. */
  total: Promise<number | null> | null;
  opts: ResolvedReplicateOptions;
  log: Logger;
}

/** A verified stream: bytes that crossed this time, the proof, and a note for the verification text. */
export interface AttemptDone {
  bytes: number;
  proof: Proof;
  note: string;
}

/** The attempt failed because the regenerated stream does not start with the spooled bytes. */
export class PrefixMismatch extends Error {}

/**
 * Send the stream once, from `plan.offset` on (the receiver replays the spool before it), and
 * prove it. On failure both ends are stopped, the partial subvolume and digest records removed;
 * the spool is kept for a rerun unless what it holds is known bad (a digest mismatch, or a
 * prefix the sender does not regenerate: then PrefixMismatch is thrown).
 */
export async function attempt(c: AttemptContext, plan: ResumePlan): Promise<AttemptDone> {
  const { sender, receiver, sCaps, rCaps, opts } = c;
  const token = digestToken();
  const sLocal = sender.host.destination === undefined;
  const rLocal = receiver.host.destination === undefined;
  // This process digests a local end itself only while the bytes it sees are the whole stream.
  const ownSendDigest = sLocal && plan.offset === 0;
  const ownReceiveDigest = rLocal && plan.spool === null;
  const zstd = (caps: HostCapabilities, args: string[]) =>
    opts.compress ? [[caps.zstdPath!, '-q', ...args]] : [];
  const send = ownSendDigest ? [...c.sendArgv] : sendStage(token, c.sendArgv);
  const recv = receiveStage(ownReceiveDigest ? '' : token, receiver.path, c.name, rCaps.btrfs);
  const proof: Omit<ProofInput, 'sendDigest' | 'receiveDigest'> = {
    sender,
    receiver,
    caps: rCaps,
    target: c.target,
    uuid: c.uuid,
    incremental: c.incremental,
    token,
  };
  const dropSpool = async () => {
    if (plan.spool) await discardSpool(receiver.host, plan.spool).catch(() => undefined);
  };
  if (plan.spool) await prepareSpool(receiver.host, plan.spool, c.identity, plan.offset);
  const total = c.total?.then((t) => (t === null ? null : Math.max(0, t - plan.offset))) ?? null;
  try {
    const t = await runTransfer({
      sender: sender.host,
      senderStages: [
        plan.offset > 0 ? skipStage(plan.offset, plan.sha256, send) : send,
        ...zstd(sCaps, ['-c']),
      ],
      receiver: receiver.host,
      receiverStages: [
        ...zstd(rCaps, ['-d', '-c']),
        plan.spool ? spoolStage(plan.spool, plan.offset, plan.cap, c.target, rCaps.btrfs, recv) : recv,
      ],
      ...(ownSendDigest && { senderDigest: 'output' as const }),
      ...(ownReceiveDigest && { receiverDigest: 'input' as const, digestPipe: opts.compress === null }),
      rateLimit: opts.rateLimit,
      onProgress: opts.onProgress,
      progressInterval: opts.progressInterval,
      total,
      stallTimeout: opts.stallTimeout,
      signal: opts.signal,
    });
    const p = await proveTransfer({ ...proof, sendDigest: t.sendDigest, receiveDigest: t.receiveDigest });
    await dropSpool();
    return { bytes: t.bytes, proof: p, note: '' };
  } catch (err) {
    const kind = err instanceof TransferFailure ? err.kind : ((err as { kind?: string }).kind ?? 'local');
    // A connection that died after both ends exited 0 lost only their statuses: what they left
    // behind (the subvolume, both digest records) proves the transfer over a new connection.
    if (err instanceof TransferFailure && (kind === 'network' || kind === 'channel')) {
      const p = await proveWithRetry({ ...proof, ...err.digests }).catch(() => null);
      if (p) {
        c.log.warn({ err }, 'connection lost after both ends finished; transfer proven complete');
        await dropSpool();
        return {
          bytes: err.bytes,
          proof: p,
          note: ` (the connection dropped after both ends exited 0: ${err.summary}; checked again over a new one)`,
        };
      }
    }
    const cleanup = await cleanupPartial(receiver, rCaps, c.target, c.uuid, kind);
    await discardDigestRecords(sender, receiver, token);
    const mismatch = err instanceof TransferFailure && err.sender.stderr.includes(PREFIX_MISMATCH);
    // A spool whose bytes failed the stream check, or that the sender does not regenerate, is no prefix to resume from.
    if (mismatch || kind === 'verify') await dropSpool();
    c.log.warn({ cleanup }, 'btrfs transfer failed');
    if (mismatch) throw new PrefixMismatch(cleanup);
    const kept = plan.spool && kind !== 'verify' ? `; ${spoolNote(c, plan)}` : '';
    if (err instanceof TransferFailure) {
      const full = receiveOutOfSpace(
        err.receiver,
        receiver.host.destination !== undefined,
        where(receiver.host, c.target),
      );
      throw new BtrfsTransferError(
        full ? 'remote' : err.kind,
        full?.summary ??
          `btrfs ${where(sender.host, sender.path)} -> ${where(receiver.host, receiver.path)}: ${err.summary}`,
        { sender: err.sender, receiver: err.receiver, cleanup: `${cleanup}${kept}`, bytes: err.bytes },
        {
          cause: err.cause,
          destination: receiver.host.destination ?? sender.host.destination,
          ...(full && { code: full.code }),
        },
      );
    }
    if (err instanceof Error) err.message += `\n  cleanup: ${cleanup}${kept}`;
    throw err;
  }
}

function spoolNote(c: AttemptContext, plan: ResumePlan): string {
  return `kept the resume spool ${where(c.receiver.host, plan.spool!)}: run the same command again to resume`;
}
