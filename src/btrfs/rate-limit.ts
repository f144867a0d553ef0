import { Transform, type TransformCallback } from 'node:stream';
import { ConfigError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A rate as bytes per second: a positive number, or a string like `50M`, `512k`, `1.5G`,
 * `10MiB` (binary units, as curl's and rsync's rate limits use).
 */
export function parseRate(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.floor(value) || 1;
    throw new ConfigError(`Expected a rate limit above 0 bytes/s, got \`${value}\` (number)`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?(?:\/s)?\s*$/i.exec(String(value));
  const n = m ? Number.parseFloat(m[1]!) * UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(n >= 1)) {
    throw new ConfigError(
      `Expected a rate limit like 50M, 512k or a number of bytes/s, got \`${String(value)}\` (${typeof value})`,
    );
  }
  return Math.floor(n);
}

/** Options of `new RateLimitStream()`. */
export interface RateLimitOptions {
  /** Bytes per second. */
  rate: number;
  /** Largest burst in bytes; chunks are forwarded in pieces no larger than this. @default max(16 KiB, rate / 10) capped at 1 MiB */
  burst?: number;
  /** Clock in milliseconds (tests inject one). @default performance.now */
  now?: () => number;
}

/**
 * A token bucket as a pass-through Transform: each piece waits until the bucket holds its
 * size. Holding the callback is what propagates backpressure upstream, so nothing accumulates.
 */
export class RateLimitStream extends Transform {
  /** Bytes per second. */
  readonly rate: number;
  /** Largest piece forwarded at once, in bytes. */
  readonly burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RateLimitOptions) {
    super({ highWaterMark: 64 * 1024 });
    if (!(Number.isFinite(options.rate) && options.rate > 0)) {
      throw new ConfigError(
        `Expected \`rate\` to be a number above 0, got \`${options.rate}\` (${typeof options.rate})`,
      );
    }
    this.rate = options.rate;
    this.burst = Math.max(
      1,
      Math.floor(options.burst ?? Math.min(1024 * 1024, Math.max(16 * 1024, options.rate / 10))),
    );
    this.#now = options.now ?? (() => performance.now());
    this.#tokens = this.burst;
    this.#last = this.#now();
  }

  /** @internal Node's Transform hook. */
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#send(chunk, 0, callback);
  }

  #send(chunk: Buffer, offset: number, callback: TransformCallback): void {
    while (offset < chunk.length) {
      const t = this.#now();
      this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) * this.rate) / 1000);
      this.#last = t;
      const size = Math.min(this.burst, chunk.length - offset);
      if (this.#tokens < size) {
        const waitMs = Math.max(1, Math.ceil(((size - this.#tokens) * 1000) / this.rate));
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#send(chunk, offset, callback);
        }, waitMs);
        return;
      }
      this.#tokens -= size;
      this.push(chunk.subarray(offset, offset + size));
      offset += size;
    }
    callback();
  }

  /** @internal Node's Transform hook. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    callback(error);
  }
}
