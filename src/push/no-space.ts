import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { RemoteError } from '../errors.js';
import { displayPath } from '../manifest/raw-path.js';

/** SSH_FX_FAILURE: what OpenSSH's sftp-server answers for errno values without a status of their own (ENOSPC, EDQUOT…). */
const SSH_FX_FAILURE = 4;

interface Statvfs {
  bavail: number;
  frsize: number;
}

function statvfs(sftp: SFTPWrapper, dir: string): Promise<Statvfs | undefined> {
  return new Promise((resolve) => {
    try {
      (
        sftp as unknown as {
          ext_openssh_statvfs(
            p: string,
            cb: (err: unknown, st?: { f_bavail: number; f_frsize: number }) => void,
          ): void;
        }
      ).ext_openssh_statvfs(dir, (err, st) =>
        resolve(err || !st ? undefined : { bavail: Number(st.f_bavail), frsize: Number(st.f_frsize) }),
      );
    } catch {
      // The server lacks the extension: nothing more to say than its status.
      resolve(undefined);
    }
  });
}

/**
 * A write that failed with SFTP's bare "Failure" says nothing about why. When the remote file
 * system (asked with statvfs@openssh.com) has less room than the file still needed, say so —
 * the usual cause, and the one the user can act on.
 */
export async function explainWriteFailure(
  sftp: SFTPWrapper,
  err: unknown,
  where: { rel: string; remoteTmp: string; needed: number; destination: string },
): Promise<unknown> {
  if ((err as { code?: unknown } | undefined)?.code !== SSH_FX_FAILURE) return err;
  const dir = path.posix.dirname(where.remoteTmp);
  const st = await statvfs(sftp, dir);
  if (!st) return err;
  const free = st.bavail * st.frsize;
  if (free >= where.needed) return err;
  return noSpaceError(`push ${displayPath(where.rel)}`, dir, free, where.needed, err, where.destination);
}

/**
 * The classified error (`kind: remote`, `SSHMUX_ERR_REMOTE_NO_SPACE`) for a write the remote
 * file system had no room for: `what` names the operation and path, `dir` where it was measured.
 */
export function noSpaceError(
  what: string,
  dir: string,
  free: number,
  needed: number,
  cause: unknown,
  destination?: string,
): RemoteError {
  return new RemoteError(
    `${what}: no space left on the remote file system (${free} bytes free in ${dir}, ${needed} more were needed)`,
    { destination, code: 'SSHMUX_ERR_REMOTE_NO_SPACE', cause },
  );
}
