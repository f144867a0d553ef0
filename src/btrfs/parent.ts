import { type SubvolumeInfo, streamUuid } from './subvolume-show.js';

/** The outcome of choosing an incremental parent: `parent` null means a full send, `reason` says why. */
export interface ParentChoice {
  parent: SubvolumeInfo | null;
  /** The destination subvolume that holds the parent's content (null for a full send). */
  match: SubvolumeInfo | null;
  reason: string;
}

/**
 * The destination subvolume that is a copy of `candidate`, by btrbk's correlation rules: a
 * destination subvolume received from the candidate's stream UUID (its own UUID, or the UUID
 * it was itself received from), or the very subvolume the candidate was received from.
 */
export function correlate(
  candidate: SubvolumeInfo,
  destination: readonly SubvolumeInfo[],
): SubvolumeInfo | null {
  const id = streamUuid(candidate);
  return (
    destination.find((d) => d.readonly && d.receivedUuid !== null && d.receivedUuid === id) ??
    destination.find((d) => d.readonly && d.uuid === id) ??
    null
  );
}

/**
 * Pick the parent for an incremental send of `source`: among read-only subvolumes in the same
 * directory created before it (lower `cgen`: generation moves when a received UUID or a flag is
 * set, creation does not), the newest that has a copy in the destination directory.
 */
export function selectParent(
  source: SubvolumeInfo,
  siblings: readonly SubvolumeInfo[],
  destination: readonly SubvolumeInfo[],
): ParentChoice {
  const older = siblings
    .filter((s) => s.readonly && s.uuid !== source.uuid && s.cgen < source.cgen)
    .sort((a, b) => b.cgen - a.cgen);
  if (older.length === 0) {
    return {
      parent: null,
      match: null,
      reason: `full send: no read-only snapshot older than ${source.name} beside it`,
    };
  }
  if (!destination.some((d) => d.receivedUuid !== null || d.readonly)) {
    return {
      parent: null,
      match: null,
      reason: 'full send: the destination directory holds no received snapshots',
    };
  }
  for (const candidate of older) {
    const match = correlate(candidate, destination);
    if (match) {
      return {
        parent: candidate,
        match,
        reason: `incremental from ${candidate.name}: the destination has it as ${match.name}`,
      };
    }
  }
  return {
    parent: null,
    match: null,
    reason: `full send: none of the ${older.length} older snapshot(s) beside ${source.name} (${older
      .slice(0, 3)
      .map((s) => s.name)
      .join(', ')}${older.length > 3 ? ', …' : ''}) has a copy at the destination`,
  };
}
