import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { parseRate, RateLimiter } from '../../../src/push/rate-limiter.js';

describe('RateLimiter', () => {
  it('books bytes on a virtual clock shared by all callers', () => {
    let now = 1_000;
    const r = new RateLimiter(1000, { burstMs: 0, now: () => now });
    expect(r.reserve(500)).toBe(500);
    expect(r.reserve(500)).toBe(1000); // a second stream waits behind the first
    now = 3_000;
    expect(r.reserve(100)).toBe(100); // idle time is not saved up beyond the burst
  });

  it('paces a stream to about the rate', async () => {
    const r = new RateLimiter(200_000, { burstMs: 0 });
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(10_000));
    const t0 = Date.now();
    let total = 0;
    await pipeline(
      Readable.from(chunks),
      r.stream(),
      new Writable({
        write(c: Buffer, _e, cb) {
          total += c.length;
          cb();
        },
      }),
    );
    expect(total).toBe(100_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
  });

  it('rejects a non-positive rate with the bad value', () => {
    expect(() => new RateLimiter(0)).toThrow(/got `0` \(number\)/);
  });
});

describe('parseRate', () => {
  it('reads curl/rsync style suffixes as binary multiples', () => {
    expect(parseRate('100000')).toBe(100_000);
    expect(parseRate('500k')).toBe(512_000);
    expect(parseRate('2M')).toBe(2 * 1024 * 1024);
    expect(parseRate('1.5m')).toBe(1_572_864);
    expect(parseRate('1G')).toBe(1024 ** 3);
  });
  it('rejects nonsense', () => {
    expect(() => parseRate('fast')).toThrow(/Expected a rate/);
    expect(() => parseRate('0')).toThrow(/Expected a rate/);
  });
});
