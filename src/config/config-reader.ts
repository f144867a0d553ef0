import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { lexLine, where } from './config-lexer.js';
import { globPaths } from './include-glob.js';
import { applyDirective } from './keywords.js';
import { evaluateMatch, type MatchEnvironment } from './match-criteria.js';
import type { OptionStore } from './option-store.js';
import { matchHostPatterns } from './pattern.js';
import { isSshConfigError, sshConfigError } from './ssh-error.js';
import { expandTilde } from './tokens.js';

/** OpenSSH's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;

/** Everything one reading pass needs; `host` is what `Host` lines match (the resolved name in the final pass). */
export interface ReadPass extends MatchEnvironment {
  readonly store: OptionStore;
  /** Directory relative Includes of the system file are taken from (`/etc/ssh`). */
  readonly systemDir: string;
  readonly platform: NodeJS.Platform;
  /** Where readconf.c's non-fatal error() lines go (e.g. `Unsupported option`). */
  readonly warn: (message: string) => void;
  /** Set when a `Match final` was seen: the caller must run a final pass. */
  wantFinalPass: boolean;
}

/** How a file is read: user or system file, and whether Host/Match may activate (SSHCONF_NEVERMATCH). */
export interface ReadFlags {
  readonly userConfig: boolean;
  readonly checkPermissions: boolean;
  readonly neverMatch: boolean;
}

function checkPermissions(file: string, pass: ReadPass): void {
  if (pass.platform === 'win32' || typeof process.getuid !== 'function') return;
  const st = statSync(file);
  const uid = process.getuid();
  if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw sshConfigError(`Bad owner or permissions on ${file}`, { logged: true });
  }
}

/** Read one file: false when it does not exist (callers decide whether that matters). */
export async function readConfigFile(
  file: string,
  pass: ReadPass,
  flags: ReadFlags,
  depth = 0,
  active = { value: true },
): Promise<boolean> {
  if (depth > MAX_INCLUDE_DEPTH) {
    // fatal() in readconf.c: not a bad line of the including file, the end of reading.
    throw sshConfigError('Too many recursive configuration includes', { logged: true });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ConfigError(`Can't open user config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (flags.checkPermissions) checkPermissions(file, pass);
  // As readconf.c: a bad line is reported and counted, reading goes on, and the file then fails as a whole.
  const bad: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    try {
      const line = lexLine(lines[i]!, file, i + 1);
      if (line) await processLines([line], pass, flags, depth, active);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (isSshConfigError(err)) {
        // A fatal error further on (an included file's): ssh printed this file's bad lines
        // as it met them, before it.
        if (bad.length === 0) throw err;
        throw new ConfigError([...bad, err.message].join('\n'), { code: err.code, cause: err });
      }
      bad.push(err.message);
    }
  }
  if (bad.length > 0) {
    throw sshConfigError(
      [...bad, `${file}: terminating, ${bad.length} bad configuration options`].join('\n'),
      {
        logged: true,
      },
    );
  }
  return true;
}

/** Apply lexed lines (a file's, or `-o` options with `cmdline`). */
export async function processLines(
  lines: readonly ConfigLine[],
  pass: ReadPass,
  flags: ReadFlags,
  depth: number,
  active: { value: boolean },
  cmdline = false,
): Promise<void> {
  for (const line of lines) {
    const at = where(line.file, line.line);
    pass.store.origin = cmdline ? '-o' : `${line.file}:${line.line}`;
    if (cmdline && (line.keyword === 'host' || line.keyword === 'match' || line.keyword === 'include')) {
      // readconf.c says "Host directive" for Match too.
      const name = line.keyword === 'include' ? 'Include' : 'Host';
      throw new ConfigError(`${name} directive not supported as a command-line option`);
    }
    if (line.keyword === 'host') {
      if (line.args.some((a) => a === '')) throw new ConfigError(`${at}: keyword host empty argument`);
      active.value = !flags.neverMatch && matchHostPatterns(pass.host, line.args);
    } else if (line.keyword === 'match') {
      const result = await evaluateMatch(line, pass, !flags.neverMatch);
      if (result.final) pass.wantFinalPass = true;
      active.value = !flags.neverMatch && result.matched;
    } else if (line.keyword === 'include') {
      await include(line, pass, flags, depth, active);
    } else {
      applyDirective(pass.store, line, active.value, pass.warn);
    }
  }
}

async function include(
  line: ConfigLine,
  pass: ReadPass,
  flags: ReadFlags,
  depth: number,
  active: { value: boolean },
): Promise<void> {
  const at = where(line.file, line.line);
  const pathApi = pass.platform === 'win32' ? path.win32 : path.posix;
  for (const arg of line.args) {
    if (arg === '') throw new ConfigError(`${at}: keyword include empty argument`);
    if (arg.startsWith('~') && !flags.userConfig) throw new ConfigError(`${at}: bad include path ${arg}.`);
    let full: string;
    if (arg.startsWith('~')) full = expandTilde(arg, pass.homeDir, at);
    else if (pathApi.isAbsolute(arg)) full = arg;
    else full = pathApi.join(flags.userConfig ? pathApi.join(pass.homeDir, '.ssh') : pass.systemDir, arg);
    const outer = active.value;
    for (const file of globPaths(full, pathApi)) {
      await readConfigFile(
        file,
        pass,
        { userConfig: flags.userConfig, checkPermissions: true, neverMatch: flags.neverMatch || !outer },
        depth + 1,
        active,
      );
      // A Host or Match inside the included file must not leak into the including file.
      active.value = outer;
    }
  }
}
