import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localScan } from '../../../src/manifest/local-scan.js';
import { localManifest } from '../../../src/manifest/manifest.js';
import { displayPath, rawFromString } from '../../../src/manifest/raw-path.js';
import { describePosix } from '../../helpers/posix-only.js';
import { makeLocalTree } from './helpers.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describePosix('sh (fixtures/trees/make-hostile-tree.sh)')('localManifest', () => {
  let tree: string;
  beforeAll(() => {
    tree = makeLocalTree({ SMALL: '600', SPARSE: '5M' });
  });
  afterAll(() => rmSync(path.dirname(tree), { recursive: true, force: true }));

  it('lists files with hashes and symlinks as links, keyed by raw relative path', async () => {
    const m = await localManifest(tree, { concurrency: 3 });
    expect(m.get('-leading-dash')).toEqual({ type: 'file', sha256: sha('dash\n'), size: 5 });
    expect(m.get('new\nline')).toEqual({ type: 'file', sha256: sha('newline\n'), size: 8 });
    expect(m.get('latin1-\xe9t\xe9-\xff')).toEqual({ type: 'file', sha256: sha('latin1\n'), size: 7 });
    expect(m.get(rawFromString('ünïcødé ✓'))?.type).toBe('file');
    expect(m.get('sub dir/-nested/file')).toEqual({ type: 'file', sha256: sha('nested\n'), size: 7 });
    expect(m.get('empty')).toEqual({ type: 'file', sha256: sha(''), size: 0 });
    expect(m.get('sparse.img')).toEqual({ type: 'file', sha256: sha(Buffer.alloc(5 << 20)), size: 5 << 20 });
    expect(m.get('link')).toEqual({ type: 'symlink', target: 'target with space' });
    expect(m.get('many/1/f599')).toEqual({ type: 'file', sha256: sha('small file 599\n'), size: 15 });
    // Directories are not entries; files only (+ links).
    expect(m.has('sub dir')).toBe(false);
    expect([...m.values()].filter((e) => e.type === 'file')).toHaveLength(600 + 18);
    // Byte order, like `LC_ALL=C sort`.
    const keys = [...m.keys()];
    expect(keys).toEqual([...keys].sort());
  });

  it('does not follow a symlink to a directory', async () => {
    const dir = path.join(path.dirname(tree), 'loop');
    mkdirSync(path.join(dir, 'd'), { recursive: true });
    writeFileSync(path.join(dir, 'd', 'f'), 'x');
    symlinkSync('..', path.join(dir, 'd', 'up'));
    const m = await localManifest(dir);
    expect([...m.keys()]).toEqual(['d/f', 'd/up']);
  });

  it('records size, whole-second mtime and mode when not hashing', async () => {
    const scan = await localScan(tree, { hash: false });
    const f = scan.files.get('empty')!;
    expect(f).toMatchObject({ size: 0, mode: 0o644 });
    expect(f.sha256).toBeUndefined();
    expect(Number.isInteger(f.mtime)).toBe(true);
    expect(scan.dirs.get('sub dir')).toBe(0o755);
  });

  it('fails on a missing root with a local error', async () => {
    await expect(localManifest(path.join(tree, 'nope'))).rejects.toMatchObject({ kind: 'local' });
  });

  it('rejects a bad concurrency', async () => {
    await expect(localManifest(tree, { concurrency: 0 })).rejects.toThrow(/got `0` \(number\)/);
  });

  it('yields to the event loop while it walks, and an abort during the walk stops it', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const m = await localManifest(tree, { sliceMs: 0 });
      expect(m.size).toBe(600 + 18 + 2);
      expect(turns).toBeGreaterThan(0);
    } finally {
      clearInterval(ticker);
    }
    const ac = new AbortController();
    setImmediate(() => ac.abort(new Error('stop')));
    await expect(localManifest(tree, { sliceMs: 0, signal: ac.signal })).rejects.toThrow('stop');
  });

  it('hashes files on both sides of the synchronous limit (64 KiB) alike', async () => {
    const dir = path.join(path.dirname(tree), 'sizes');
    mkdirSync(dir, { recursive: true });
    const sizes = [64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300 * 1024];
    for (const n of sizes) writeFileSync(path.join(dir, `f${n}`), Buffer.alloc(n, n % 251));
    const m = await localManifest(dir);
    for (const n of sizes) {
      expect(m.get(`f${n}`)).toEqual({ type: 'file', sha256: sha(Buffer.alloc(n, n % 251)), size: n });
    }
  });

  it('honours an abort signal', async () => {
    await expect(localManifest(tree, { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('displayPath', () => {
  it('escapes control characters, backslashes and invalid UTF-8', () => {
    expect(displayPath('a\nb\\c')).toBe('a\\nb\\\\c');
    expect(displayPath('latin1-\xe9')).toBe('latin1-\\xe9');
    expect(displayPath(rawFromString('ü ✓'))).toBe('ü ✓');
  });
});
