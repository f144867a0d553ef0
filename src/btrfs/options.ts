import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { ProgressEvent } from './progress-meter.js';
import { parseRate } from './rate-limit.js';

/** Options of `sendSnapshot`, `pullSnapshot` and `relaySnapshot`. */
export interface ReplicateOptions {
  /** The read-only snapshot to send: a local path (send) or `dest:PATH` (pull, relay). */
  source: string;
  /** The directory that receives it: `dest:DIR` (send, relay) or a local directory (pull). */
  target: string;
  /**
   * Incremental parent on the sending side: a path, `'auto'` (the newest older read-only
   * snapshot beside the source that the target directory has a copy of), or null for a full send.
   * @default 'auto'
   */
  parent?: string | null;
  /** Clone sources on the sending side (`btrfs send -c`). @default [] */
  clones?: readonly string[];
  /** Compress the stream with zstd on both ends (both must have zstd). @default null */
  compress?: 'zstd' | null;
  /** Bytes per second (or `'50M'`, `'512k'`), enforced in this process. @default null (unlimited) */
  rateLimit?: number | string | null;
  /** Progress reports, at most every `progressInterval` ms, the last with `done: true`. */
  onProgress?: (event: ProgressEvent) => void;
  /** @default 250 */
  progressInterval?: number;
  /** Abort: both ends are stopped and the partial subvolume removed. */
  signal?: AbortSignal;
  /** Milliseconds without a byte moving before the transfer fails with `kind: timeout`. @default 300000 */
  stallTimeout?: number;
  /**
   * Estimate the stream size for the ETA with a metadata-only `btrfs send --no-data` beside the
   * real send (full and incremental; not with `compress`, whose byte counts are compressed).
   * @default true when onProgress is given
   */
  estimateSize?: boolean;
  /**
   * Resume an interrupted transfer. The receiving side keeps the stream it received as a spool
   * file (`DIR/.sshmux-resume/NAME/stream`, the uncompressed btrfs stream); a rerun whose source,
   * parent and clone sources are the same subvolumes (by UUID and generation) proves by SHA-256
   * that the regenerated stream starts with the spooled bytes, sends only the rest, and replays
   * spool + rest into a fresh `btrfs receive`. The spool is removed once the copy is verified.
   * `false`: no spool is kept and an existing one is removed. See docs/btrfs.md for its disk cost.
   * @default true
   */
  resume?: boolean;
  /**
   * Largest spool in bytes (or `'20G'`, `'512M'`); the spool stops growing there and a resume
   * then starts from that point. @default half the space free on the receiving filesystem when
   * the transfer starts (plus what an existing spool holds)
   */
  spoolLimit?: number | string | null;
  /** @default silent */
  logger?: Logger;
}

export interface ResolvedReplicateOptions {
  readonly source: string;
  readonly target: string;
  readonly parent: string | null | 'auto';
  readonly clones: readonly string[];
  readonly compress: 'zstd' | null;
  readonly rateLimit: number | null;
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly progressInterval: number;
  readonly signal: AbortSignal | undefined;
  readonly stallTimeout: number;
  readonly estimateSize: boolean;
  readonly resume: boolean;
  readonly spoolLimit: number | null;
  readonly logger: Logger;
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ConfigError(
      `Expected \`${name}\` to be a non-empty string, got \`${String(value)}\` (${typeof value})`,
    );
  }
  return value;
}

/** A byte count like `20G` (binary units), named in the error. */
function parseSize(name: string, value: number | string): number {
  try {
    return parseRate(value);
  } catch {
    throw new ConfigError(
      `Expected \`${name}\` to be a size in bytes like 20G, 512M or a number, got \`${String(value)}\` (${typeof value})`,
    );
  }
}

/** Validate once into a frozen, fully defaulted object. */
export function resolveReplicateOptions(options: ReplicateOptions): ResolvedReplicateOptions {
  const parent = options.parent === undefined ? 'auto' : options.parent;
  if (parent !== null) nonEmpty('parent', parent);
  const compress = options.compress ?? null;
  if (compress !== null && compress !== 'zstd') {
    throw new ConfigError(
      `Expected \`compress\` to be 'zstd' or null, got \`${String(compress)}\` (${typeof compress})`,
    );
  }
  const stallTimeout = options.stallTimeout ?? 300_000;
  if (!(Number.isFinite(stallTimeout) && stallTimeout > 0)) {
    throw new ConfigError(
      `Expected \`stallTimeout\` to be milliseconds above 0, got \`${stallTimeout}\` (${typeof stallTimeout})`,
    );
  }
  const progressInterval = options.progressInterval ?? 250;
  if (!(Number.isFinite(progressInterval) && progressInterval >= 0)) {
    throw new ConfigError(
      `Expected \`progressInterval\` to be milliseconds from 0 up, got \`${progressInterval}\` (${typeof progressInterval})`,
    );
  }
  const resume = options.resume ?? true;
  if (typeof resume !== 'boolean') {
    throw new ConfigError(
      `Expected \`resume\` to be true or false, got \`${String(resume)}\` (${typeof resume})`,
    );
  }
  if (!resume && options.spoolLimit != null) {
    throw new ConfigError(
      '`spoolLimit` limits the resume spool: it cannot be set together with `resume: false`',
    );
  }
  const clones = (options.clones ?? []).map((c, i) => nonEmpty(`clones[${i}]`, c));
  return Object.freeze({
    source: nonEmpty('source', options.source),
    target: nonEmpty('target', options.target),
    parent,
    clones,
    compress,
    rateLimit: options.rateLimit == null ? null : parseRate(options.rateLimit),
    onProgress: options.onProgress,
    progressInterval,
    signal: options.signal,
    stallTimeout,
    estimateSize: options.estimateSize ?? options.onProgress !== undefined,
    resume,
    spoolLimit: options.spoolLimit == null ? null : parseSize('spoolLimit', options.spoolLimit),
    logger: options.logger ?? silentLogger(),
  });
}
