const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * OpenSSH's `convtime()`: `90`, `10m`, `1h30m`, units s m h d w (either case); undefined when
 * malformed or beyond INT_MAX seconds.
 */
export function convtime(text: string): number | undefined {
  if (text === '') return undefined;
  let total = 0;
  const re = /([0-9]+)([smhdwSMHDW]?)/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[(m[2] || 's').toLowerCase()]!;
    if (total > 2147483647) return undefined;
    at = re.lastIndex;
  }
  return total;
}
