import { describe, expect, it, vi } from 'vitest';

describe('the -f background copy', () => {
  it('takes its marker out of the environment as it loads, and then never forks again', async () => {
    process.env.SSHMUX_INTERNAL_FORK_REPORT = '3';
    vi.resetModules();
    const mod = await import('../../../src/cli/fork-after-auth.js');
    expect(process.env.SSHMUX_INTERNAL_FORK_REPORT).toBeUndefined();
    expect(mod.isForkedChild()).toBe(true);
    // fd 3 is no pipe of ours here: reporting is a no-op, not a write to whatever fd 3 is.
    expect(() => mod.reportAuthenticated()).not.toThrow();
  });

  it('is not a background copy without the marker', async () => {
    delete process.env.SSHMUX_INTERNAL_FORK_REPORT;
    vi.resetModules();
    const mod = await import('../../../src/cli/fork-after-auth.js');
    expect(mod.isForkedChild()).toBe(false);
  });
});
