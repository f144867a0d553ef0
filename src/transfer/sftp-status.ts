/** OpenSSH's wording for each SSH_FX_* status (sftp-common.c), which scp and sftp print after the path. */
const TEXT: Record<number, string> = {
  0: 'No error',
  1: 'End of file',
  2: 'No such file or directory',
  3: 'Permission denied',
  4: 'Failure',
  5: 'Bad message',
  6: 'No connection',
  7: 'Connection lost',
  8: 'Operation unsupported',
};

export function statusText(status: number): string {
  return TEXT[status] ?? 'Unknown status';
}

/** A remote path for a message: bytes that are not printable UTF-8 shown as `\\ooo`, like OpenSSH's strvisx. */
export function printablePath(path: Buffer | string): string {
  const b = typeof path === 'string' ? Buffer.from(path) : path;
  const text = b.toString('utf8');
  if (Buffer.from(text).equals(b) && !/[\p{Cc}]/u.test(text)) return text;
  let out = '';
  for (const byte of b)
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\${byte.toString(8).padStart(3, '0')}`;
  return out;
}

/** A path's bytes as a latin1 string (one char per byte): the CLI escapes it as OpenSSH does when printing. */
export function rawPath(path: Buffer | string): string {
  return (typeof path === 'string' ? Buffer.from(path) : path).toString('latin1');
}
