import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';

/** A progress report of `push`. */
export interface PushProgress {
  /** Files to send. */
  filesTotal: number;
  /** Files sent so far. */
  filesDone: number;
  /** Bytes of all files to upload, and bytes done (a resumed prefix counts as done). */
  bytesTotal: number;
  /** Bytes sent so far. */
  bytesDone: number;
  /** The file just finished, when this report is for one. */
  path?: string;
}

/** Options of `push`. */
export interface PushOptions {
  /** Compare content (SHA-256 on both sides) instead of size and mtime. @default false */
  checksum?: boolean;
  /** Delete remote entries that do not exist locally. @default false */
  delete?: boolean;
  /** Bytes per second over all files in flight. @default unlimited */
  rateLimit?: number;
  /** Files in flight (each worker leases one SFTP session). @default 4 */
  concurrency?: number;
  /** Compare both trees by SHA-256 after the push; a difference is a `VerifyError`. @default false */
  verify?: boolean;
  /**
   * How file contents travel: leased SFTP sessions, or one exec channel (`cat`) per file.
   * Names that are not valid UTF-8 always go by exec (ssh2's SFTP takes UTF-8 strings only).
   * @default 'sftp'
   */
  transport?: 'sftp' | 'exec';
  /** Called as bytes and files complete. */
  onProgress?: (progress: PushProgress) => void;
  /** Abort: in-flight files stop, their temporary files stay for the next push to continue. */
  signal?: AbortSignal;
  /** @default silent */
  logger?: Logger;
}

export interface ResolvedPushOptions {
  readonly checksum: boolean;
  readonly delete: boolean;
  readonly rateLimit: number | undefined;
  readonly concurrency: number;
  readonly verify: boolean;
  readonly transport: 'sftp' | 'exec';
  readonly onProgress: ((progress: PushProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger | undefined;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new ConfigError(`Expected \`${name}\` to be a boolean, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

/** Validate once into a frozen, fully defaulted object. */
export function normalizePushOptions(options: PushOptions): ResolvedPushOptions {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(
      `Expected \`concurrency\` to be an integer from 1 and up, got \`${String(concurrency)}\` (${typeof concurrency})`,
    );
  }
  const rate = options.rateLimit;
  if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)) {
    throw new ConfigError(
      `Expected \`rateLimit\` to be a positive number of bytes per second, got \`${String(rate)}\` (${typeof rate})`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ConfigError(`Expected \`onProgress\` to be a function, got \`${typeof options.onProgress}\``);
  }
  const transport = options.transport ?? 'sftp';
  if (transport !== 'sftp' && transport !== 'exec') {
    throw new ConfigError(
      `Expected \`transport\` to be 'sftp' or 'exec', got \`${String(transport)}\` (${typeof transport})`,
    );
  }
  return Object.freeze({
    transport,
    checksum: bool('checksum', options.checksum, false),
    delete: bool('delete', options.delete, false),
    rateLimit: rate,
    concurrency,
    verify: bool('verify', options.verify, false),
    onProgress: options.onProgress,
    signal: options.signal,
    logger: options.logger,
  });
}
