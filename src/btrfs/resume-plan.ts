import type { Logger } from '../logger.js';
import type { BtrfsHost } from './host.js';
import { hostError } from './inspect.js';
import type { HostCapabilities } from './probe.js';
import { discardSpool, hashSpool, removeOwnPartial, type SpoolState, spoolPath } from './resume.js';
import type { SubvolumeInfo } from './subvolume-show.js';
import { where } from './verify.js';

/** How one transfer attempt uses the receiver's spool. */
export interface ResumePlan {
  /** The spool path on the receiving host, null when no spool is kept. */
  spool: string | null;
  /** Bytes of the stream the receiver already holds (replayed from the spool, not sent). */
  offset: number;
  /** SHA-256 of those bytes ('' when offset is 0). */
  sha256: string;
  /** The spool stops growing at this many bytes. */
  cap: number;
  /** Why there is no spool, or '' . */
  note: string;
}

/** A plan that keeps no spool. */
export const NO_SPOOL = (note: string): ResumePlan => ({ spool: null, offset: 0, sha256: '', cap: 0, note });

/**
 * When the target name is taken by a subvolume without a Received UUID whose UUID the spool
 * recorded as its transfer's own, delete it: an interrupted run's partial, recognised by
 * identity. Returns whether it did (false: the subvolume is someone else's).
 */
export async function replaceOwnPartial(
  host: BtrfsHost,
  caps: HostCapabilities,
  target: string,
  same: SubvolumeInfo | undefined,
  state: SpoolState,
  log: Logger,
): Promise<boolean> {
  if (!same || same.receivedUuid !== null || state.partialUuid === null || state.partialUuid !== same.uuid) {
    return false;
  }
  await removeOwnPartial(host, caps, target, same.uuid);
  log.info({ uuid: same.uuid }, 'removed the partial subvolume an interrupted transfer left');
  return true;
}

/**
 * Decide how this transfer uses the spool for `name` in `dir`: resume from it when its identity
 * record equals `identity` (same source, parent and clone sources by UUID and generation), refuse
 * (and remove it) when it is a prefix of another stream, start a new one otherwise.
 */
export async function planResume(
  host: BtrfsHost,
  dir: string,
  name: string,
  state: SpoolState,
  identity: string,
  opts: { resume: boolean; spoolLimit: number | null },
): Promise<ResumePlan> {
  const spool = spoolPath(dir, name);
  if (!opts.resume) {
    if (state.exists) await discardSpool(host, spool);
    return NO_SPOOL('resume off');
  }
  if (!state.usable) return NO_SPOOL(`not resumable: ${state.why}`);
  let offset = 0;
  let sha256 = '';
  if (state.exists && state.size > 0) {
    if (state.identity !== identity) {
      await discardSpool(host, spool);
      const line = (text: string, key: string) =>
        text.split('\n').find((l) => l.startsWith(`${key} `)) ?? `${key} (none)`;
      throw hostError(
        host,
        'SSHMUX_ERR_BTRFS_RESUME_MISMATCH',
        `refusing to resume ${where(host, `${dir.replace(/\/+$/, '')}/${name}`)}: its spool held ${state.size} bytes ` +
          `of a stream from another source or parent (spooled ${line(state.identity, 'source')}, ${line(state.identity, 'parent')}; ` +
          `now ${line(identity, 'source')}, ${line(identity, 'parent')}). The spool is removed; run again to send from the start`,
      );
    }
    offset = state.size;
    sha256 = await hashSpool(host, spool);
  }
  // By default the spool takes at most half of what was free when the transfer started.
  const cap = Math.max(offset, opts.spoolLimit ?? offset + Math.floor(state.available / 2));
  return { spool, offset, sha256, cap, note: '' };
}
