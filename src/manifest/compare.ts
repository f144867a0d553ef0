import type { Manifest, ManifestComparison, ManifestEntry } from './types.js';

function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.type === 'file' && b.type === 'file') return a.sha256 === b.sha256 && a.size === b.size;
  if (a.type === 'symlink' && b.type === 'symlink') return a.target === b.target;
  // An unreadable entry is never known to be equal.
  return false;
}

/** Compare two manifests (`a` usually local, `b` remote); each list is sorted in byte order. */
export function compareManifests(a: Manifest, b: Manifest): ManifestComparison {
  const missing: string[] = [];
  const extra: string[] = [];
  const mismatched: string[] = [];
  const identical: string[] = [];
  for (const [p, entry] of a) {
    const other = b.get(p);
    if (other === undefined) missing.push(p);
    else if (sameEntry(entry, other)) identical.push(p);
    else mismatched.push(p);
  }
  for (const p of b.keys()) if (!a.has(p)) extra.push(p);
  const byBytes = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return {
    missing: missing.sort(byBytes),
    extra: extra.sort(byBytes),
    mismatched: mismatched.sort(byBytes),
    identical: identical.sort(byBytes),
  };
}

/** True when nothing is missing, extra or mismatched. */
export function manifestsEqual(c: ManifestComparison): boolean {
  return c.missing.length === 0 && c.extra.length === 0 && c.mismatched.length === 0;
}
