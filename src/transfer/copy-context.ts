import type { RateLimiter } from '../push/rate-limiter.js';

/** One file's progress line (scp's meter); `finish` prints its last state. */
export interface FileProgress {
  update(bytes: number): void;
  finish(): void;
}

/** What every copy of one scp run shares: the flags, the bandwidth limit, and where messages go. */
export interface CopyContext {
  /** -p: modification and access times and modes from the original. */
  readonly preserve: boolean;
  /** -r */
  readonly recursive: boolean;
  /** -l: one budget for every file. */
  readonly limiter?: RateLimiter | undefined;
  /** OpenSSH's error(): a failure, printed. */
  error(message: string): void;
  /** OpenSSH's logit(): a file skipped, printed. */
  log(message: string): void;
  /** sftp's get/put -r skip symbolic links ("not a regular file"); scp follows them. @default true */
  readonly followLinks?: boolean;
  /** sftp's "Retrieving DIR" / "Entering DIR" lines (stdout), when set. */
  announce?: ((line: string) => void) | undefined;
  /** A local temporary exists (`true`) or is gone (`false`): the CLI removes what is left when a signal ends it. */
  localTemporary?: ((path: Buffer, exists: boolean) => void) | undefined;
  /** A meter for one file, when one is shown. */
  progress?: ((name: Buffer, size: number) => FileProgress) | undefined;
}
