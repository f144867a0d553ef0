import type { TransferSide } from './transfer-error.js';

/** strerror(ENOSPC) and strerror(EDQUOT), as btrfs receive prints them after the file it was writing. */
const NO_SPACE = /No space left on device|Disk quota exceeded/;

/**
 * A `btrfs receive` on a remote host that stopped because its file system (or quota) was full:
 * the error code push and upload give for it and a summary naming the subvolume that was being
 * received (`at`, as `dest:path`). Undefined for any other failure, and for a local receiver
 * (its full disk is this machine's, not the remote's).
 */
export function receiveOutOfSpace(
  receiver: TransferSide,
  remote: boolean,
  at: string,
): { code: string; summary: string } | undefined {
  if (!remote || !NO_SPACE.test(receiver.stderr)) return undefined;
  return {
    code: 'SSHMUX_ERR_REMOTE_NO_SPACE',
    summary: `btrfs receive into ${at}: no space left on the remote file system`,
  };
}
