import SSHConfig, { LineType } from 'ssh-config';
import { ConfigError } from '../errors.js';

/** One directive of an ssh_config file, lexed as OpenSSH's readconf.c does. */
export interface ConfigLine {
  /** Lowercased keyword. */
  readonly keyword: string;
  /** Arguments after OpenSSH's argv_split (quotes removed, `\` escapes applied, `#…` dropped). */
  readonly args: readonly string[];
  /** The raw remainder after the keyword, for ProxyCommand-like keywords that take the line as is. */
  readonly rest: string;
  readonly file: string;
  /** 1-based; 0 for command-line (-o) options. */
  readonly line: number;
}

/** `file line N` as OpenSSH words it (`command-line line 0` for `-o`). */
export function where(file: string, line: number): string {
  return `${file} line ${line}`;
}

/**
 * OpenSSH's `argv_split(…, terminate_on_comment=1)`: whitespace-separated words, `"…"`/`'…'`
 * quoting, `\` escapes of quotes, backslash and (outside quotes) space; `#` at a word start ends the line.
 */
export function splitArgs(text: string, file: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote = '';
    let arg = '';
    for (; i < text.length; i++) {
      const ch = text[i]!;
      const next = text[i + 1];
      if (ch === '\\') {
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
          arg += next;
          i++;
        } else arg += ch;
      } else if (quote === '' && (ch === ' ' || ch === '\t')) break;
      else if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (quote !== '' && ch === quote) quote = '';
      else arg += ch;
    }
    if (quote !== '') throw new ConfigError(`${where(file, line)}: invalid quotes`);
    out.push(arg);
  }
  return out;
}

// The keyword and its separator (`Key value`, `Key=value`, `Key = value`), as strdelim() splits them.
const HEAD = /^[ \t\f]*("?)([^\s="]*)\1[ \t\f]*(?:=[ \t\f]*)?/;

function keywordOf(text: string): string | undefined {
  try {
    const node = SSHConfig.parse(text).find((n) => n.type === LineType.DIRECTIVE);
    return node && 'param' in node && node.param !== '' ? node.param : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lex one line: undefined for blank lines and comments. ssh-config names the keyword (it knows
 * the `=`/quoted-keyword forms); the arguments are re-split here because ssh-config's value model
 * merges quoted and unquoted words (`IdentityFile "/a b" /c` becomes one value `/a b /c`).
 */
export function lexLine(text: string, file: string, line: number): ConfigLine | undefined {
  let trimmed = text.replace(/[ \t\r\n\f]+$/, '');
  // strdelim() reads an empty first word before a leading `=`; readconf.c then takes the next word.
  if (/^[ \t\f]*=/.test(trimmed)) trimmed = trimmed.replace(/^[ \t\f]*=[ \t\f]*/, '');
  const head = HEAD.exec(trimmed);
  if (!head || head[2] === '' || head[2]!.startsWith('#')) return undefined;
  const keyword = (keywordOf(trimmed) ?? head[2]!).replace(/^"(.*)"$/, '$1').toLowerCase();
  const rest = trimmed.slice(head[0].length);
  if (rest === '') {
    throw new ConfigError(`${where(file, line)}: no argument after keyword "${keyword}"`);
  }
  return { keyword, args: splitArgs(rest, file, line), rest, file, line };
}

/** Lex a whole file's text. */
export function lexConfig(text: string, file: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lexed = lexLine(lines[i]!, file, i + 1);
    if (lexed) out.push(lexed);
  }
  return out;
}
