import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseRate, RateLimitStream } from '../../../src/btrfs/rate-limit.js';

describe('parseRate', () => {
  it('reads binary units like curl and rsync', () => {
    expect(parseRate('50M')).toBe(50 * 1024 * 1024);
    expect(parseRate('512k')).toBe(512 * 1024);
    expect(parseRate('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseRate('10MiB')).toBe(10 * 1024 * 1024);
    expect(parseRate('2MB/s')).toBe(2 * 1024 * 1024);
    expect(parseRate('4096')).toBe(4096);
    expect(parseRate(1000.7)).toBe(1000);
  });

  it('rejects nonsense, repeating the value and its type', () => {
    expect(() => parseRate('fast')).toThrow('got `fast` (string)');
    expect(() => parseRate('0')).toThrow(/rate limit/);
    expect(() => parseRate('-5M')).toThrow(/-5M/);
    expect(() => parseRate(0)).toThrow('got `0` (number)');
    expect(() => parseRate(Number.NaN)).toThrow(/NaN/);
  });
});

async function timeThrough(
  limiter: RateLimitStream,
  total: number,
  chunk: number,
): Promise<{ ms: number; out: number; maxPiece: number }> {
  let out = 0;
  let maxPiece = 0;
  const started = performance.now();
  await pipeline(
    Readable.from(
      (function* () {
        for (let sent = 0; sent < total; sent += chunk) yield Buffer.alloc(Math.min(chunk, total - sent), 7);
      })(),
    ),
    limiter,
    new Writable({
      write(c: Buffer, _e, cb) {
        out += c.length;
        maxPiece = Math.max(maxPiece, c.length);
        cb();
      },
    }),
  );
  return { ms: performance.now() - started, out, maxPiece };
}

describe('RateLimitStream (token bucket)', () => {
  it('holds a stream to its rate after the initial burst and forwards every byte', async () => {
    // 1 MiB at 2 MiB/s with a 64 KiB burst: at least (1 MiB - 64 KiB) / 2 MiB/s ≈ 469 ms.
    const limiter = new RateLimitStream({ rate: 2 * 1024 * 1024, burst: 64 * 1024 });
    const { ms, out, maxPiece } = await timeThrough(limiter, 1024 * 1024, 256 * 1024);
    expect(out).toBe(1024 * 1024);
    expect(maxPiece).toBeLessThanOrEqual(64 * 1024);
    expect(ms).toBeGreaterThan(440);
    expect(ms).toBeLessThan(1_500);
  });

  it('does not slow a stream below its rate', async () => {
    const limiter = new RateLimitStream({ rate: 1024 ** 3 });
    const { ms, out } = await timeThrough(limiter, 4 * 1024 * 1024, 64 * 1024);
    expect(out).toBe(4 * 1024 * 1024);
    expect(ms).toBeLessThan(400);
  });

  it('refuses a bad rate', () => {
    expect(() => new RateLimitStream({ rate: 0 })).toThrow('got `0` (number)');
  });

  it('stops its timer when destroyed mid-wait', async () => {
    const limiter = new RateLimitStream({ rate: 1, burst: 1 });
    limiter.write(Buffer.alloc(10));
    limiter.destroy();
    await new Promise((r) => limiter.once('close', r));
    expect(limiter.destroyed).toBe(true);
  });
});
