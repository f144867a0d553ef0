import { LocalError } from '../errors.js';

const GLOB_MAGIC = new Set(['*', '?', '[', ']']);
const SPACE = /[ \t\r\n]/;

/**
 * sftp.c makeargv: split a command line into words with `'`/`"` quoting and backslash
 * escapes. Glob characters that were quoted or escaped keep a backslash, so the glob later
 * treats them literally; `undoGlobEscape` removes them for arguments that are never globbed.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === undefined && SPACE.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\' && i + 1 < line.length) {
      const next = line[++i]!;
      if (GLOB_MAGIC.has(next) || next === '\\') word += `\\${next}`;
      else word += next;
      continue;
    }
    if (quote === undefined && (c === '"' || c === "'")) {
      quote = c;
      continue;
    }
    if (c === quote) {
      quote = undefined;
      continue;
    }
    if (quote !== undefined && GLOB_MAGIC.has(c)) word += `\\${c}`;
    else word += c;
  }
  if (quote !== undefined) throw new LocalError('Unterminated quoted argument');
  if (inWord) words.push(word);
  return words;
}

export function undoGlobEscape(word: string): string {
  return word.replace(/\\(.)/g, '$1');
}

/** Escape glob magic in a path that is joined in front of a pattern (make_absolute_pwd_glob). */
export function escapeGlob(path: string): string {
  return path.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
