import { readdirSync } from 'node:fs';
import path from 'node:path';

const MAGIC = /[*?[]/;

// glob(3) bracket expressions are rare in ssh_config; `*` and `?` follow match.c, `[…]` a RegExp class.
function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) re += '\\[';
      else {
        const body = segment
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Expand an absolute Include pattern like glob(3): sorted matches, `*`/`?` never match a leading
 * dot, a pattern without wildcards yields itself (the reader skips it if it does not exist).
 */
export function globPaths(pattern: string, pathApi: typeof path.posix = path.posix): string[] {
  if (!MAGIC.test(pattern)) return [pattern];
  const root = pathApi.parse(pattern).root;
  const segments = pattern
    .slice(root.length)
    .split(pathApi.sep)
    .filter((s) => s !== '');
  let bases = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of bases) {
      if (!MAGIC.test(segment)) {
        next.push(pathApi.join(base, segment));
        continue;
      }
      const re = segmentRegExp(segment);
      let names: string[];
      try {
        names = readdirSync(base || '.');
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (re.test(name)) next.push(pathApi.join(base, name));
      }
    }
    bases = next;
  }
  return bases.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
