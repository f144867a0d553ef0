import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../errors.js';

/**
 * One byte budget shared by every file in flight: a virtual clock advances by
 * `bytes / rate` per chunk and a chunk waits until the clock is within `burstMs` of now.
 */
export class RateLimiter {
  /** The rate, in bytes per second. */
  readonly bytesPerSecond: number;
  readonly #burstMs: number;
  readonly #now: () => number;
  #clock = 0;

  constructor(bytesPerSecond: number, options: { burstMs?: number; now?: () => number } = {}) {
    if (typeof bytesPerSecond !== 'number' || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
      throw new ConfigError(
        `Expected \`rateLimit\` to be a positive number of bytes per second, got \`${String(bytesPerSecond)}\` (${typeof bytesPerSecond})`,
      );
    }
    this.bytesPerSecond = bytesPerSecond;
    this.#burstMs = options.burstMs ?? 50;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds to wait before sending `bytes` (and books them). */
  reserve(bytes: number): number {
    const now = this.#now();
    this.#clock = Math.max(this.#clock, now - this.#burstMs) + (bytes * 1000) / this.bytesPerSecond;
    return Math.max(0, this.#clock - now - this.#burstMs);
  }

  /** A pass-through stream that paces its data through this limiter, in slices of at most 16 KiB. */
  stream(signal?: AbortSignal): Transform {
    const pace = async (t: Transform, chunk: Buffer): Promise<void> => {
      for (let off = 0; off < chunk.length; off += SLICE) {
        const slice = chunk.subarray(off, off + SLICE);
        const wait = this.reserve(slice.length);
        if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
        t.push(slice);
      }
    };
    return new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        pace(this, chunk).then(
          () => done(),
          (err: unknown) => done(err as Error),
        );
      },
    });
  }
}

const SLICE = 16 * 1024;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `--limit-rate` values as curl/rsync spell them: `500k`, `2M`, `1.5m`, `100000` (bytes per second). */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?$/i.exec(text.trim());
  const value = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : Number.NaN;
  if (!(value > 0))
    throw new ConfigError(`Expected a rate like 500k or 2M (bytes per second), got \`${text}\``);
  return Math.round(value);
}
