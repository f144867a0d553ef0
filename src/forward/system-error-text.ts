/** strerror() words for the errors a listener meets, so messages read as ssh's do. */
const TEXT: Record<string, string> = {
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EINVAL: 'Invalid argument',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  ENAMETOOLONG: 'File name too long',
  ENOTFOUND: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
};

/** The system's text for an error's code, else its message. */
export function systemErrorText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code !== undefined && TEXT[code]) || (err instanceof Error ? err.message : String(err));
}
