import { spawn } from 'node:child_process';
import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
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
}

export interface MatchResult {
  readonly matched: boolean;
  /** `final` appeared: a final pass is wanted. */
  readonly final: boolean;
}

const NEEDS_ARGUMENT = new Set(['host', 'originalhost', 'user', 'localuser', 'exec']);

function runShell(
  command: string,
  env: Readonly<Record<string, string | undefined>>,
  at: string,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', env: { ...env } });
    child.on('error', (err) =>
      reject(new ConfigError(`${at}: match exec '${command}' error: ${err.message}`, { cause: err })),
    );
    child.on('exit', (code) => resolve(code === 0));
  });
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
  const args = [...line.args];
  let result = true;
  let attributes = 0;
  let final = false;
  while (args.length > 0) {
    const original = args.shift()!;
    const negate = original.startsWith('!');
    const attrib = (negate ? original.slice(1) : original).toLowerCase();
    if (attrib === 'all') {
      if (attributes > 1 || args.length > 0) {
        throw new ConfigError(`${at}: '${original}' cannot be combined with other Match attributes`);
      }
      return { matched: result && !negate, final };
    }
    attributes++;
    if (attrib === 'canonical' || attrib === 'final') {
      if (attrib === 'final') final = true;
      if (m.postCanonical === negate) result = false;
      continue;
    }
    if (!NEEDS_ARGUMENT.has(attrib)) throw new ConfigError(`${at}: Unsupported Match attribute ${original}`);
    const arg = args.shift();
    if (arg === undefined || arg === '')
      throw new ConfigError(`${at}: Missing Match criteria for ${original}`);
    const user = m.store.first('user') ?? m.localUser;
    let r: boolean;
    if (attrib === 'host') r = matchPatternList(matchHost(m), arg, true) === 1;
    else if (attrib === 'originalhost') r = matchPatternList(m.originalHost, arg, true) === 1;
    else if (attrib === 'user') r = matchPatternList(user, arg) === 1;
    else if (attrib === 'localuser') r = matchPatternList(m.localUser, arg) === 1;
    else {
      const host = matchHost(m);
      const port = Number(m.store.first('port') ?? 22);
      const ctx: TokenContext = { ...m, host, port, user, hostKeyAlias: undefined };
      const dot = m.localHostname.indexOf('.');
      const command = expandPercent(
        arg,
        {
          C: connectionHash(ctx),
          L: dot === -1 ? m.localHostname : m.localHostname.slice(0, dot),
          d: m.homeDir,
          h: host,
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
      r = mustRun ? await runShell(command, m.env, at) : false;
    }
    if (r === negate) result = false;
  }
  if (attributes === 0) throw new ConfigError(`${at}: One or more attributes required for Match`);
  return { matched: result, final };
}
