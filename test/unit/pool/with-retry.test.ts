import { describe, expect, it } from 'vitest';
import { AbortedError, AuthError, NetworkError, TimeoutError } from '../../../src/errors.js';
import { withRetry } from '../../../src/pool/with-retry.js';

describe('withRetry', () => {
  it('retries retryable errors with exponential backoff until success', async () => {
    const delays: number[] = [];
    let last = Date.now();
    let calls = 0;
    const result = await withRetry(
      async (attempt) => {
        calls++;
        const now = Date.now();
        delays.push(now - last);
        last = now;
        if (attempt < 3) throw attempt === 1 ? new NetworkError('reset') : new TimeoutError('slow');
        return 'ok';
      },
      { attempts: 5, minDelay: 40, jitter: false },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays[1]).toBeGreaterThanOrEqual(35);
    expect(delays[2]).toBeGreaterThanOrEqual(75);
  });

  it('does not retry terminal errors (auth) nor foreign errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new AuthError('denied');
      }),
    ).rejects.toBeInstanceOf(AuthError);
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });

  it('gives up after `attempts` and rethrows the last error', async () => {
    let calls = 0;
    const err = await withRetry(
      async () => {
        calls++;
        throw new NetworkError(`try ${calls}`);
      },
      { attempts: 3, minDelay: 1 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect((err as Error).message).toBe('try 3');
  });

  it('jitters each delay within [delay/2, delay]', async () => {
    const seen: number[] = [];
    let last = Date.now();
    await withRetry(
      async (attempt) => {
        const now = Date.now();
        seen.push(now - last);
        last = now;
        if (attempt === 1) throw new NetworkError('x');
      },
      { minDelay: 200, random: () => 0 },
    );
    expect(seen[1]).toBeGreaterThanOrEqual(95);
    expect(seen[1]).toBeLessThan(190);
  });

  it('stops waiting when the signal aborts', async () => {
    const ac = new AbortController();
    const reason = new AbortedError('stop');
    setTimeout(() => ac.abort(reason), 30);
    const started = Date.now();
    const err = await withRetry(
      async () => {
        throw new NetworkError('down');
      },
      { attempts: 10, minDelay: 5_000, signal: ac.signal },
    ).catch((e: unknown) => e);
    expect(err).toBe(reason);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('validates attempts', async () => {
    await expect(withRetry(async () => 1, { attempts: 0 })).rejects.toThrow(
      'Expected `attempts` to be a number from 1 and up, got `0` (number)',
    );
  });
});
