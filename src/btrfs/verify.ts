import { setTimeout as sleep } from 'node:timers/promises';
import { VerifyError } from '../errors.js';
import type { BtrfsHost } from './host.js';
import { showSubvolume } from './inspect.js';
import type { HostCapabilities } from './probe.js';
import { type DigestRole, takeDigestRecord } from './stream-digest.js';
import type { SubvolumeInfo } from './subvolume-show.js';

/** One end of a replication: a host and a path on it. */
export interface End {
  host: BtrfsHost;
  path: string;
}

export const where = (host: BtrfsHost, p: string): string =>
  host.destination === undefined ? p : `${host.destination}:${p}`;

/** What the receiving side must hold once a stream arrived, and the digests to compare. */
export interface ProofInput {
  sender: End;
  receiver: End;
  caps: HostCapabilities;
  target: string;
  /** The stream's UUID: the destination's Received UUID must equal it. */
  uuid: string;
  incremental: boolean;
  token: string;
  /** Digests the ends printed on stderr, when their stderr arrived. */
  sendDigest: string | null;
  receiveDigest: string | null;
}

/** A transfer proven complete: the received subvolume and the stream digest both ends agree on. */
export interface Proof {
  received: SubvolumeInfo;
  sha256: string;
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

/** The record of `role`, falling back to the digest its stderr carried. */
async function digestOf(host: BtrfsHost, token: string, role: DigestRole, printed: string | null) {
  return (await takeDigestRecord(host, token, role)) ?? printed;
}

/**
 * Prove a transfer complete: the destination is read-only with the stream's Received UUID, and
 * the SHA-256 of what btrfs send wrote equals that of what btrfs receive read. The digests come
 * from the records both ends leave on exit 0 (so this also works over a new connection after
 * the first one died), falling back to what their stderr carried. Throws VerifyError
 * (`SSHMUX_ERR_BTRFS_DIGEST` for a digest mismatch or a missing digest).
 */
export async function proveTransfer(p: ProofInput): Promise<Proof> {
  const [received, sent, got] = await Promise.all([
    verifyReceived(p.receiver, p.caps, p.target, p.uuid, p.incremental),
    digestOf(p.sender.host, p.token, 'send', p.sendDigest),
    digestOf(p.receiver.host, p.token, 'receive', p.receiveDigest),
  ]);
  const destination = p.receiver.host.destination ?? p.sender.host.destination;
  const code = 'SSHMUX_ERR_BTRFS_DIGEST';
  if (sent === null || got === null) {
    const missing =
      sent === null ? `btrfs send on ${p.sender.host.label}` : `btrfs receive on ${p.receiver.host.label}`;
    throw new VerifyError(`stream check failed: no SHA-256 from ${missing} (it did not exit 0)`, {
      destination,
      code,
    });
  }
  if (sent !== got) {
    throw new VerifyError(
      `stream check failed: btrfs send on ${p.sender.host.label} wrote SHA-256 ${sent}, ` +
        `btrfs receive on ${p.receiver.host.label} read ${got}: the stream was altered on its way`,
      { destination, code },
    );
  }
  return { received, sha256: sent };
}

/** `proveTransfer`, retried while a host cannot be reached (the pool reconnects in between). */
export async function proveWithRetry(p: ProofInput, attempts = 3): Promise<Proof> {
  for (let i = 1; ; i++) {
    try {
      return await proveTransfer(p);
    } catch (err) {
      const kind = (err as { kind?: string }).kind;
      if (i >= attempts || (kind !== 'network' && kind !== 'channel' && kind !== 'timeout')) throw err;
      await sleep(1_000 * i);
    }
  }
}

/** Remove both digest records, whatever happened (they exist only when an end exited 0). */
export async function discardDigestRecords(sender: End, receiver: End, token: string): Promise<void> {
  await Promise.allSettled([
    takeDigestRecord(sender.host, token, 'send'),
    takeDigestRecord(receiver.host, token, 'receive'),
  ]);
}

/**
 * Delete the subvolume this transfer made at `target`: the name was free before it started, so
 * a subvolume there now is its own when it carries no Received UUID (an unfinished stream) or,
 * when `rejected` (this transfer's receive exited 0 and verification failed), the stream's UUID.
 * Anything else is left alone: a complete copy may be another run's.
 */
export async function cleanupPartial(
  receiver: End,
  caps: HostCapabilities,
  target: string,
  uuid: string,
  kind: string,
): Promise<string> {
  const rejected = kind === 'verify';
  // After a dropped connection the remote receive may still be draining its pipe for a moment.
  if (kind === 'network' || kind === 'channel') await sleep(1_000);
  let lastError = '';
  const at = where(receiver.host, target);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const info = await showSubvolume(receiver.host, caps, target);
      if (info === 'missing') return `nothing to remove at ${at}`;
      if (info === 'other') return `left ${at}: not a subvolume`;
      if (info.receivedUuid !== null && !(rejected && info.receivedUuid === uuid))
        return `left ${at}: it carries a Received UUID (${info.receivedUuid})`;
      const r = await receiver.host.run([...caps.btrfs, 'subvolume', 'delete', target]);
      if (r.code === 0) {
        return info.receivedUuid === null
          ? `removed partial subvolume ${at}`
          : `removed ${at}, received from a stream that failed verification`;
      }
      lastError = r.stderr.trim();
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(1_000 * (attempt + 1));
  }
  return `could not remove partial subvolume ${at}: ${lastError}`;
}
