import { describe, expect, it } from 'vitest';
import { emptyScan, type ScannedFile, type TreeScan } from '../../../src/manifest/tree-scan.js';
import { partialPathOf, planPush, targetOfPartial } from '../../../src/push/plan.js';

const f = (size: number, mtime = 100, mode = 0o644, sha256?: string): ScannedFile => ({
  size,
  mtime,
  mode,
  ...(sha256 !== undefined && { sha256 }),
});

function scan(init: Partial<{ [K in keyof TreeScan]: Record<string, unknown> }>): TreeScan {
  const s = emptyScan();
  for (const [k, v] of Object.entries(init)) {
    const map = s[k as keyof TreeScan] as Map<string, unknown>;
    for (const [p, e] of Object.entries(v)) map.set(p, e);
  }
  return s;
}

describe('partial names', () => {
  it('maps a file to its hidden temporary name and back', () => {
    expect(partialPathOf('a/b c')).toBe('a/.b c.sshmux-partial');
    expect(partialPathOf('-x')).toBe('.-x.sshmux-partial');
    expect(targetOfPartial('a/.b c.sshmux-partial')).toBe('a/b c');
    expect(targetOfPartial('.sshmux-partial')).toBeUndefined();
    expect(targetOfPartial('a/b.sshmux-partial')).toBeUndefined();
  });
});

describe('planPush', () => {
  it('uploads new and changed files, skips equal size+mtime, sets only attributes when content matches', () => {
    const local = scan({
      files: { new: f(1), sized: f(2), timed: f(1, 200), same: f(1), moded: f(1, 100, 0o600) },
    });
    const remote = scan({ files: { sized: f(3), timed: f(1, 100), same: f(1), moded: f(1) } });
    const plan = planPush(local, remote, { checksum: false, delete: false });
    expect(plan.uploads.map((u) => u.path)).toEqual(['new', 'sized', 'timed']);
    expect(plan.attributes.map((a) => a.path)).toEqual(['moded']);
    expect(plan.unchanged).toBe(1);
  });

  it('with checksum compares hashes, not mtimes', () => {
    const local = scan({ files: { a: f(1, 200, 0o644, 'x'), b: f(1, 100, 0o644, 'y') } });
    const remote = scan({ files: { a: f(1, 100, 0o644, 'x'), b: f(1, 100, 0o644, 'z') } });
    const plan = planPush(local, remote, { checksum: true, delete: false });
    expect(plan.uploads.map((u) => u.path)).toEqual(['b']);
    expect(plan.attributes.map((a) => a.path)).toEqual(['a']);
  });

  it('offers a leftover temporary file for resuming only when it is not longer than the local file', () => {
    const local = scan({ files: { big: f(100), small: f(5) } });
    const remote = scan({ files: { '.big.sshmux-partial': f(40), '.small.sshmux-partial': f(9) } });
    const plan = planPush(local, remote, { checksum: false, delete: true });
    expect(plan.uploads).toEqual([
      { path: 'big', file: f(100), partialSize: 40 },
      { path: 'small', file: f(5), partialSize: undefined },
    ]);
    // Temporary files of uploads are continued or overwritten, never deleted.
    expect(plan.deletes).toEqual([]);
  });

  it('creates missing directories parents first and replaces entries of the wrong type', () => {
    const local = scan({
      dirs: { a: 0o755, 'a/b': 0o700, c: 0o755 },
      files: { 'a/b/f': f(1), d: f(1) },
      symlinks: { l: 't', same: 's' },
    });
    const remote = scan({ files: { c: f(1) }, dirs: { d: 0o755, l: 0o755 }, symlinks: { same: 's' } });
    const plan = planPush(local, remote, { checksum: false, delete: false });
    expect(plan.mkdirs).toEqual([
      { path: 'a', mode: 0o755 },
      { path: 'a/b', mode: 0o700 },
      { path: 'c', mode: 0o755 },
    ]);
    expect(plan.replace).toEqual(['c', 'd', 'l']);
    expect(plan.symlinks).toEqual([{ path: 'l', target: 't' }]);
    expect(plan.unchanged).toBe(1);
  });

  it('deletes extraneous entries only with delete, topmost only, never under an unreadable local directory', () => {
    const local = scan({ files: { keep: f(1) }, errors: { locked: 'Permission denied' } });
    const remote = scan({
      files: { keep: f(1), gone: f(1), 'old/x': f(1), 'locked/y': f(1), '.stale.sshmux-partial': f(1) },
      dirs: { old: 0o755, 'old/deeper': 0o755, locked: 0o755 },
      symlinks: { 'old/l': 'x' },
    });
    expect(planPush(local, remote, { checksum: false, delete: false }).deletes).toEqual([]);
    const plan = planPush(local, remote, { checksum: false, delete: true });
    expect(plan.deletes).toEqual(['.stale.sshmux-partial', 'gone', 'old']);
    expect([...plan.localErrors.keys()]).toEqual(['locked']);
  });
});
