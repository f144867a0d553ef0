import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { runMatchExec } from './match-exec.js';
import type { OptionStore } from './option-store.js';
import { matchPatternList } from './pattern.js';
import { connectionHash, expandPercent, type TokenContext } from './tokens.js';

/** What `Match` criteria look at. */
export interface MatchEnvironment {
  readonly store: OptionStore;
  /** The host `Host` lines and `Match host` see before HostName (the resolved name in the final pass). */
  readonly host: string;
  readonly originalHost: string;
  /** True in the final pass (`Match final`/`canonical` then match). */
  readonly postCanonical: boolean;
  readonly allowMatchExec: boolean;
  readonly localUser: string;
  readonly homeDir: string;
  readonly localHostname: string;
  readonly uid: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Decides how `Match exec` runs its command (a shell on POSIX, %ComSpec% on Windows). */
  readonly platform: NodeJS.Platform;
}

export interface MatchResult {
  readonly matched: boolean;
  /** `final` appeared: a final pass is wanted. */
  readonly final: boolean;
}

/** The criteria OpenSSH 9.2 knows besides all/canonical/final (no localnetwork or tagged: those came later). */
const NEEDS_ARGUMENT = new Set(['host', 'originalhost', 'user', 'localuser', 'exec']);

/**
 * misc.c's strdelim() applied until the words run out: words end at blanks or at one `=`
 * (so `host=b` is `host b`), and `"…"` quotes a word.
 */
export function matchWords(rest: string): string[] {
  const out: string[] = [];
  let s: string | undefined = rest;
  while (s !== undefined) {
    const cut: number = s.search(/[ \t\r\n"=]/);
    if (cut === -1) {
      if (s !== '') out.push(s);
      break;
    }
    let word: string;
    if (s[cut] === '"') {
      const body: string = s.slice(0, cut) + s.slice(cut + 1);
      const close = body.indexOf('"', cut);
      if (close === -1) break;
      word = body.slice(0, close);
      s = body.slice(close + 1).replace(/^[ \t\r\n]*/, '');
    } else {
      const equals = s[cut] === '=';
      word = s.slice(0, cut);
      s = s.slice(cut + 1).replace(/^[ \t\r\n]*/, '');
      if (!equals && s.startsWith('=')) s = s.slice(1).replace(/^[ \t\r\n]*/, '');
    }
    if (word === '') break;
    out.push(word);
  }
  return out;
}

/** A Match line that cannot be evaluated: readconf.c reports the reason, then "Bad Match condition". */
function badMatch(reason: string, at: string): ConfigError {
  return new ConfigError(`${reason}\n${at}: Bad Match condition`);
}

/** `Match host` sees HostName (with `%h` expanded) once set, else the current host. */
function matchHost(m: MatchEnvironment): string {
  const hostname = m.store.first('hostname');
  return hostname === undefined ? m.host : expandPercent(hostname, { h: m.host }, 'HostName');
}

/** Evaluate a `Match` line as readconf.c's match_cfg_line(); `mayExec` false never runs commands. */
export async function evaluateMatch(
  line: ConfigLine,
  m: MatchEnvironment,
  mayExec: boolean,
): Promise<MatchResult> {
  const at = where(line.file, line.line);
  // match_cfg_line() expands HostName before looking at the criteria, `all` included.
  matchHost(m);
  const args = matchWords(line.rest);
  let result = true;
  let attributes = 0;
  let final = false;
  while (args.length > 0) {
    const original = args.shift()!;
    if (original.startsWith('#')) break;
    const negate = original.startsWith('!');
    const attrib = (negate ? original.slice(1) : original).toLowerCase();
    if (attrib === 'all') {
      const next = args[0];
      if (attributes > 1 || (next !== undefined && !next.startsWith('#'))) {
        throw badMatch(`${at}: '${original}' cannot be combined with other Match attributes`, at);
      }
      return { matched: result && !negate, final };
    }
    attributes++;
    if (attrib === 'canonical' || attrib === 'final') {
      if (attrib === 'final') final = true;
      if (m.postCanonical === negate) result = false;
      continue;
    }
    const arg = args.shift();
    if (arg === undefined || arg === '' || arg.startsWith('#'))
      throw badMatch(`Missing Match criteria for ${attrib}`, at);
    if (!NEEDS_ARGUMENT.has(attrib)) throw badMatch(`Unsupported Match attribute ${attrib}`, at);
    const user = m.store.first('user') ?? m.localUser;
    let r: boolean;
    if (attrib === 'host') r = matchPatternList(matchHost(m), arg, true) === 1;
    else if (attrib === 'originalhost') r = matchPatternList(m.originalHost, arg, true) === 1;
    else if (attrib === 'user') r = matchPatternList(user, arg) === 1;
    else if (attrib === 'localuser') r = matchPatternList(m.localUser, arg) === 1;
    else {
      const host = matchHost(m);
      const port = Number(m.store.first('port') ?? 22);
      const keyAlias = m.store.first('hostkeyalias');
      const ctx: TokenContext = { ...m, host, port, user, hostKeyAlias: keyAlias };
      const dot = m.localHostname.indexOf('.');
      const command = expandPercent(
        arg,
        {
          C: connectionHash(ctx),
          L: dot === -1 ? m.localHostname : m.localHostname.slice(0, dot),
          d: m.homeDir,
          h: host,
          k: keyAlias ?? host,
          i: m.uid,
          l: m.localHostname,
          n: m.originalHost,
          p: String(port),
          r: user,
          u: m.localUser,
        },
        `${at}: Match exec`,
      );
      // Like OpenSSH: no command runs once an earlier criterion on the line has failed.
      const mustRun = result && mayExec;
      if (mustRun && !m.allowMatchExec) {
        throw new ConfigError(`${at}: Match exec is disabled; allow it to run \`${command}\``);
      }
      r = mustRun ? (await runMatchExec(command, m.platform, m.env, at)) === 0 : false;
    }
    if (r === negate) result = false;
  }
  if (attributes === 0) throw badMatch('One or more attributes required for Match', at);
  return { matched: result, final };
}
