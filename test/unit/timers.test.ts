import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, persistTimer } from '../../src/timers.js';

describe('persistTimer', () => {
  it('sets no timer for durations a timer cannot hold (they mean forever)', () => {
    let fired = false;
    for (const ms of [Infinity, MAX_TIMER_MS + 1, Number.NaN]) {
      expect(persistTimer(ms, () => (fired = true))).toBeUndefined();
    }
    expect(fired).toBe(false);
  });

  it('fires after ordinary durations without holding the event loop', async () => {
    let fired = false;
    const t = persistTimer(5, () => (fired = true));
    expect(t?.hasRef()).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toBe(true);
  });
});
