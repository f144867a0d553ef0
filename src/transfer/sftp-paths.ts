import { randomBytes } from 'node:crypto';
import type { SftpClient } from './sftp-client.js';

const SLASH = 0x2f;

/** The last component of a path (trailing slashes ignored), as basename(3). */
export function baseName(path: Buffer): Buffer {
  let end = path.length;
  while (end > 1 && path[end - 1] === SLASH) end--;
  const start = path.lastIndexOf(SLASH, end - 1) + 1;
  const base = path.subarray(start, end);
  return base.length === 0 ? Buffer.from(path.length > 0 ? '/' : '.') : base;
}

/** sftp_path_append: `dir/name`, without doubling a slash. */
export function appendPath(dir: Buffer, name: Buffer): Buffer {
  if (dir.length === 0) return Buffer.from(name);
  return dir[dir.length - 1] === SLASH
    ? Buffer.concat([dir, name])
    : Buffer.concat([dir, Buffer.from('/'), name]);
}

/**
 * A hidden name next to `path` for the bytes in transit: `.NAME.sshmux-XXXXXXXX`, the name cut
 * so that the result stays within NAME_MAX (255). Renamed over `path` only once complete.
 */
export function tempSibling(path: Buffer): Buffer {
  const base = baseName(path);
  const dir = path.subarray(0, path.length - base.length);
  const suffix = Buffer.from(`.sshmux-${randomBytes(4).toString('hex')}`);
  const room = 255 - 1 - suffix.length;
  return Buffer.concat([dir, Buffer.from('.'), base.subarray(0, room), suffix]);
}

/**
 * scp's prepare_remote_path: the remote side starts in the home directory, so `''`, `~` and `~/x`
 * are relative to it; `~user/x` needs expand-path@openssh.com. Undefined (after `onError`) when
 * the server cannot expand it.
 */
export async function prepareRemotePath(
  client: SftpClient,
  path: Buffer,
  onError: (message: string) => void,
): Promise<Buffer | undefined> {
  const text = path.toString('latin1');
  if (text === '' || text === '~') return Buffer.from('.');
  if (path[0] !== 0x7e) return path;
  if (text.startsWith('~/')) {
    const rest = text.slice(2).replace(/^\/+/, '');
    return rest === '' ? Buffer.from('.') : path.subarray(path.length - rest.length);
  }
  if (client.has('expand-path@openssh.com')) return client.expandPath(path);
  onError('server expand-path extension is required for ~user paths in SFTP mode');
  return undefined;
}

/** Whether the remote path is a directory (following links), as sftp_remote_is_dir. */
export async function remoteIsDir(client: SftpClient, path: Buffer): Promise<boolean> {
  const attrs = await client.stat(path).catch(() => undefined);
  return attrs !== undefined && ((attrs.mode ?? 0) & 0o170000) === 0o040000;
}
