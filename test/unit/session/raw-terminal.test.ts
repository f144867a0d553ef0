import { describe, expect, it } from 'vitest';
import { RawTerminal, type RestoreHooks } from '../../../src/session/raw-terminal.js';

function fakes(isTTY = true) {
  const modes: boolean[] = [];
  const exit: (() => void)[] = [];
  const death: (() => void)[] = [];
  let suspended = 0;
  const hooks: RestoreHooks = {
    onExit: (h) => {
      exit.push(h);
      return () => exit.splice(exit.indexOf(h), 1);
    },
    onDeathBySignal: (h) => {
      death.push(h);
      return () => death.splice(death.indexOf(h), 1);
    },
    canSuspend: true,
    suspendSelf: () => {
      suspended++;
      // While stopped, the terminal must be as it was.
      expect(modes.at(-1)).toBe(false);
    },
  };
  const input = { isTTY, setRawMode: (m: boolean) => modes.push(m) };
  return { modes, exit, death, hooks, input, suspended: () => suspended };
}

describe('RawTerminal', () => {
  it('enters raw mode once and leaves it once', () => {
    const f = fakes();
    const t = new RawTerminal(f.input, f.hooks);
    t.enter();
    t.enter();
    expect(t.isRaw).toBe(true);
    t.leave();
    t.leave();
    expect(f.modes).toEqual([true, false]);
  });

  it('does nothing when its input is not a terminal', () => {
    const f = fakes(false);
    const t = new RawTerminal(f.input, f.hooks);
    t.enter();
    t.dispose();
    expect(f.modes).toEqual([]);
    expect(f.exit).toHaveLength(0);
  });

  it('restores the terminal from the exit hook (process exit, uncaught exception)', () => {
    const f = fakes();
    new RawTerminal(f.input, f.hooks).enter();
    for (const h of f.exit) h();
    expect(f.modes).toEqual([true, false]);
  });

  it('restores the terminal from the death-by-signal hook', () => {
    const f = fakes();
    new RawTerminal(f.input, f.hooks).enter();
    for (const h of f.death) h();
    expect(f.modes).toEqual([true, false]);
  });

  it('suspends with the terminal restored and comes back raw', () => {
    const f = fakes();
    const t = new RawTerminal(f.input, f.hooks);
    t.enter();
    t.suspend();
    expect(f.suspended()).toBe(1);
    expect(f.modes).toEqual([true, false, true]);
    expect(t.isRaw).toBe(true);
  });

  it('drops its hooks on dispose', () => {
    const f = fakes();
    const t = new RawTerminal(f.input, f.hooks);
    t.enter();
    t.dispose();
    expect(f.exit).toHaveLength(0);
    expect(f.death).toHaveLength(0);
    expect(f.modes).toEqual([true, false]);
  });

  it('survives a terminal that went away when restoring', () => {
    const f = fakes();
    const input = {
      isTTY: true,
      setRawMode: (m: boolean) => {
        if (!m) throw new Error('EIO');
      },
    };
    const t = new RawTerminal(input, f.hooks);
    t.enter();
    expect(() => t.dispose()).not.toThrow();
  });
});
