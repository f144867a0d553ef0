import { type RemoteError, SftpStatusError } from '../errors.js';
import { noSpaceError } from '../push/no-space.js';
import { type SftpClient, Status } from './sftp-client.js';
import { statvfs } from './sftp-extensions.js';
import { printablePath } from './sftp-status.js';
import { splitPath } from './xfer-context.js';

/**
 * An upload's write that failed with SFTP's bare "Failure" (OpenSSH's sftp-server has no status
 * for ENOSPC or EDQUOT): when statvfs@openssh.com says the file system holding `remote` has less
 * room than the `needed` bytes, the no-space error push gives (`SSHMUX_ERR_REMOTE_NO_SPACE`),
 * `what` naming the operation and path. Undefined when that is not what happened or the server
 * cannot tell.
 */
export async function explainNoSpace(
  client: SftpClient,
  err: unknown,
  where: { what: string; remote: Buffer; needed: number; show?: (path: Buffer) => string },
): Promise<RemoteError | undefined> {
  if (!(err instanceof SftpStatusError) || err.status !== Status.Failure) return undefined;
  if (!client.has('statvfs@openssh.com')) return undefined;
  const { dir } = splitPath(where.remote);
  const st = await statvfs(client, dir).catch(() => undefined);
  if (st === undefined) return undefined;
  const free = Number(st.bavail * st.frsize);
  if (free >= where.needed) return undefined;
  return noSpaceError(where.what, (where.show ?? printablePath)(dir), free, where.needed, err);
}
