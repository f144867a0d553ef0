/** C's strerror(3) text for a Node system error, which is what scp and sftp print after a local path. */
const TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  EIO: 'Input/output error',
  ENOTEMPTY: 'Directory not empty',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
  EMFILE: 'Too many open files',
};

export function strerror(err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  return (code && TEXT[code]) ?? (err as Error | undefined)?.message ?? String(err);
}
