import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, isSshmuxError } from '../errors.js';

/** How `withRetry` retries: attempts, exponential back-off with jitter, abort. */
export interface RetryPolicy {
  /** Attempts in total, the first included. @default 3 */
  attempts?: number;
  /** Delay before the first retry, in ms; doubles each time. @default 200 */
  minDelay?: number;
  /** Upper bound of one delay, in ms. @default 5000 */
  maxDelay?: number;
  /** Randomize each delay within [delay/2, delay] so many clients do not retry in step. @default true */
  jitter?: boolean;
  /** Stops waiting and retrying; rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each retry with the error and the attempt that failed (1-based). */
  onRetry?: (err: unknown, attempt: number) => void;
  /** Random source in [0, 1), for tests. @default Math.random */
  random?: () => number;
}

/**
 * Run `fn` until it succeeds, retrying only errors marked `retryable` (network, timeout,
 * channel) with exponential backoff and jitter. Auth, host-key, config and remote errors
 * fail at once, as does anything that is not an sshmux error.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy = {},
): Promise<T> {
  const attempts = policy.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new ConfigError(
      `Expected \`attempts\` to be a number from 1 and up, got \`${attempts}\` (${typeof attempts})`,
    );
  }
  const minDelay = policy.minDelay ?? 200;
  const maxDelay = policy.maxDelay ?? 5000;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    policy.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isSshmuxError(err) || !err.retryable || policy.signal?.aborted) throw err;
      policy.onRetry?.(err, attempt);
      const base = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
      const delay = policy.jitter === false ? base : base / 2 + (random() * base) / 2;
      await sleep(delay, undefined, policy.signal ? { signal: policy.signal } : undefined).catch(() => {
        throw policy.signal?.reason;
      });
    }
  }
}
