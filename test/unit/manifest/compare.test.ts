import { describe, expect, it } from 'vitest';
import { compareManifests, manifestsEqual } from '../../../src/manifest/compare.js';
import type { Manifest, ManifestEntry } from '../../../src/manifest/types.js';

const file = (sha: string, size = 1) => ({ type: 'file' as const, sha256: sha.repeat(64), size });

describe('compareManifests', () => {
  it('sorts every path into exactly one list, in byte order', () => {
    const a: Manifest = new Map<string, ManifestEntry>([
      ['same', file('a')],
      ['changed', file('a')],
      ['only-a', file('c')],
      ['link', { type: 'symlink', target: 'x' }],
      ['link2', { type: 'symlink', target: 'x' }],
      ['\xe9', file('d')],
      ['b', file('d')],
    ]);
    const b: Manifest = new Map<string, ManifestEntry>([
      ['same', file('a')],
      ['changed', file('b')],
      ['only-b', file('c')],
      ['link', { type: 'symlink', target: 'x' }],
      ['link2', { type: 'symlink', target: 'y' }],
      ['\xe9', file('d')],
      ['b', file('d')],
    ]);
    const c = compareManifests(a, b);
    expect(c).toEqual({
      missing: ['only-a'],
      extra: ['only-b'],
      mismatched: ['changed', 'link2'],
      identical: ['b', 'link', 'same', '\xe9'],
    });
    expect(manifestsEqual(c)).toBe(false);
  });

  it('treats a type change, a size change and an unreadable entry as mismatches', () => {
    const a: Manifest = new Map<string, ManifestEntry>([
      ['t', file('a')],
      ['s', file('a', 1)],
      ['e', { type: 'error', message: 'Permission denied' }],
    ]);
    const b: Manifest = new Map<string, ManifestEntry>([
      ['t', { type: 'symlink', target: 't' }],
      ['s', file('a', 2)],
      ['e', { type: 'error', message: 'Permission denied' }],
    ]);
    expect(compareManifests(a, b).mismatched).toEqual(['e', 's', 't']);
  });

  it('finds two equal manifests equal', () => {
    const m: Manifest = new Map<string, ManifestEntry>([['x', file('a')]]);
    expect(manifestsEqual(compareManifests(m, new Map(m)))).toBe(true);
  });
});
