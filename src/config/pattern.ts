/**
 * OpenSSH's match.c: `*` any run, `?` exactly one character, lists of comma-separated
 * patterns where a matching `!pattern` vetoes the whole list.
 */

/** One glob pattern against a whole string (case-sensitive, like `match_pattern`). */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative glob with backtracking on the last `*`: linear enough for config sizes.
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP !== -1) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * `match_pattern_list`: 1 when a positive pattern matches and no negated one does, -1 when a
 * negated pattern matches, 0 otherwise. `dolower` lowercases the text (hostnames).
 */
export function matchPatternList(text: string, list: string, dolower = false): -1 | 0 | 1 {
  const subject = dolower ? text.toLowerCase() : text;
  let got: 0 | 1 = 0;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pat = negated ? raw.slice(1) : raw;
    if (matchPattern(subject, dolower ? pat.toLowerCase() : pat)) {
      if (negated) return -1;
      got = 1;
    }
  }
  return got;
}

/** `Host` line semantics: each argument one pattern (commas are literal), any `!` match vetoes. */
export function matchHostPatterns(host: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const arg of patterns) {
    const negated = arg.startsWith('!');
    if (matchPattern(host, negated ? arg.slice(1) : arg)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}
