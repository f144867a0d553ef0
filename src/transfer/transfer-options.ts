import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Where an `upload` or `download` stands; totals are known once the source has been walked. */
export interface TransferProgress {
  /** Bytes of file contents in place so far (a resumed prefix counts as done, as in `push`). */
  bytesDone: number;
  /** Sizes of every file to copy, as the source's walk found them. */
  bytesTotal: number;
  /** Files copied completely so far. */
  filesDone: number;
  /** Files to copy, as the source's walk found them. */
  filesTotal: number;
  /**
   * The file just finished, when this report is for one: its path relative to the tree (its
   * name for a single file), bytes as a latin1 string (one char per byte).
   */
  path?: string;
}

/** What `upload` and `download` do with a symbolic link inside a tree. */
export type SymlinkPolicy = 'preserve' | 'follow' | 'skip';

/** Options of `upload` and `download`; an unknown option is refused by name. */
export interface TransferOptions {
  /** Keep permission bits and access/modification times (whole seconds), as `rsync -a` and `scp -p`. @default true */
  preserve?: boolean;
  /**
   * Write each file to `.NAME.sshmux-partial` next to it and keep that file when the transfer
   * fails or is aborted; the next call with `resume` continues it after checking that its bytes
   * are the source's first bytes (SHA-256 of that prefix on both sides). Without `resume` the
   * temporary file has a random name and is removed on failure. @default false
   */
  resume?: boolean;
  /**
   * Symbolic links inside a tree: recreated as links with the same target (`preserve`, as
   * `rsync -a`), copied as what they point to (`follow`, as `scp -r`; a link that points nowhere
   * is left out and listed in `skipped`), or left out (`skip`).
   * A link named as the source itself is always followed. @default 'preserve'
   */
  symlinks?: SymlinkPolicy;
  /** Files of a tree in flight at once, over one SFTP session. @default 4 */
  concurrency?: number;
  /** READ/WRITE requests in flight per file. @default 64 */
  requests?: number;
  /** Bytes per READ/WRITE request; by default the server's limits@openssh.com, else 32768. */
  bufferLength?: number;
  /** Bytes per second over all files. @default unlimited */
  rateLimit?: number;
  /** Called as bytes and files complete. */
  onProgress?: (progress: TransferProgress) => void;
  /** Abort: the SFTP session is closed at once and temporary files are removed (kept with `resume`). */
  signal?: AbortSignal;
  /** @default silent */
  logger?: Logger;
}

export interface ResolvedTransferOptions {
  readonly preserve: boolean;
  readonly resume: boolean;
  readonly symlinks: SymlinkPolicy;
  readonly concurrency: number;
  readonly requests: number;
  readonly bufferLength: number | undefined;
  readonly rateLimit: number | undefined;
  readonly onProgress: ((progress: TransferProgress) => void) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger | undefined;
}

const KNOWN = new Set([
  'preserve',
  'resume',
  'symlinks',
  'concurrency',
  'requests',
  'bufferLength',
  'rateLimit',
  'onProgress',
  'signal',
  'logger',
]);

const shown = (v: unknown) => `\`${String(v)}\` (${typeof v})`;

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new ConfigError(`Expected \`${name}\` to be a boolean, got ${shown(value)}`);
  return value;
}

function count(name: string, value: unknown, fallback: number | undefined, min = 1): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigError(`Expected \`${name}\` to be an integer from ${min} and up, got ${shown(value)}`);
  }
  return value;
}

/** Validate once into a frozen, fully defaulted object; an unknown option is an error naming it. */
export function normalizeTransferOptions(options: TransferOptions = {}): ResolvedTransferOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError(`Expected transfer options to be an object, got ${shown(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new ConfigError(`Unknown transfer option \`${key}\``);
  }
  const symlinks = options.symlinks ?? 'preserve';
  if (symlinks !== 'preserve' && symlinks !== 'follow' && symlinks !== 'skip') {
    throw new ConfigError(
      `Expected \`symlinks\` to be 'preserve', 'follow' or 'skip', got ${shown(symlinks)}`,
    );
  }
  const rate = options.rateLimit;
  if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)) {
    throw new ConfigError(
      `Expected \`rateLimit\` to be a positive number of bytes per second, got ${shown(rate)}`,
    );
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new ConfigError(`Expected \`onProgress\` to be a function, got ${shown(options.onProgress)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new ConfigError(`Expected \`signal\` to be an AbortSignal, got ${shown(options.signal)}`);
  }
  return Object.freeze({
    preserve: bool('preserve', options.preserve, true),
    resume: bool('resume', options.resume, false),
    symlinks,
    concurrency: count('concurrency', options.concurrency, 4) as number,
    requests: count('requests', options.requests, 64) as number,
    bufferLength: count('bufferLength', options.bufferLength, undefined, 64),
    rateLimit: rate,
    onProgress: options.onProgress,
    signal: options.signal,
    logger: options.logger,
  });
}
