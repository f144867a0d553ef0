import { displayPath, rawIsUtf8, rawToBytes, rawToString } from './raw-path.js';
import type { ManifestEntry } from './types.js';

/** A path for JSON: the UTF-8 text when valid, else the escaped form plus the exact bytes in base64. */
export function jsonPath(raw: string): { path: string; pathBase64?: string } {
  if (rawIsUtf8(raw)) return { path: rawToString(raw) };
  return { path: displayPath(raw), pathBase64: rawToBytes(raw).toString('base64') };
}

/** One manifest entry as a JSON-ready object. */
export function entryJson(raw: string, entry: ManifestEntry): Record<string, unknown> {
  const base = jsonPath(raw);
  if (entry.type === 'file') return { ...base, type: 'file', sha256: entry.sha256, size: entry.size };
  if (entry.type === 'symlink') {
    const target = jsonPath(entry.target);
    return {
      ...base,
      type: 'symlink',
      target: target.path,
      ...(target.pathBase64 !== undefined && { targetBase64: target.pathBase64 }),
    };
  }
  return { ...base, type: 'error', error: entry.message };
}
