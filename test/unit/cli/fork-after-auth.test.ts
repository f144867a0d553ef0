import { describe, expect, it, vi } from 'vitest';

describe('the -f background copy', () => {
  it('takes its marker out of the environment as it loads, and then never forks again', async () => {
    process.env.SSHMUX_INTERNAL_FORK_REPORT = '3';
    vi.resetModules();
    const mod = await import('../../../src/cli/fork-after-auth.js');
    expect(process.env.SSHMUX_INTERNAL_FORK_REPORT).toBeUndefined();
    expect(mod.isForkedChild()).toBe(true);
  });

  it('is not a background copy without the marker', async () => {
    delete process.env.SSHMUX_INTERNAL_FORK_REPORT;
    vi.resetModules();
    const mod = await import('../../../src/cli/fork-after-auth.js');
    expect(mod.isForkedChild()).toBe(false);
    // Not a copy: reporting writes nothing (fd 3 here is the test runner's own channel).
    expect(() => mod.reportAuthenticated()).not.toThrow();
  });
});
