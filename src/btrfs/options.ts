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
    logger: options.logger ?? silentLogger(),
  });
}
