import { ConfigError } from '../errors.js';
import {
  normalizePushOptions,
  type PushOptions,
  type PushProgress,
  type ResolvedPushOptions,
} from '../push/options.js';

/** Where a `pull` stands: the same shape as a push's. */
export type PullProgress = PushProgress;

/**
 * `pull` takes push's options, mirrored: `delete` removes local entries the remote does not
 * have, `verify` compares both trees by SHA-256 afterwards; `signal` keeps each file's
 * `.NAME.sshmux-partial` for the next pull to continue. Always over SFTP (no `transport`).
 */
export type PullOptions = Omit<PushOptions, 'transport'>;

export type ResolvedPullOptions = Omit<ResolvedPushOptions, 'transport'>;

/** Validate once into a frozen, fully defaulted object. */
export function normalizePullOptions(options: PullOptions = {}): ResolvedPullOptions {
  if (options !== null && typeof options === 'object' && 'transport' in options) {
    throw new ConfigError('`transport` is a push option: pull always reads over SFTP');
  }
  const { transport: _, ...rest } = normalizePushOptions(options);
  return Object.freeze(rest);
}
