import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lexLine } from './config-lexer.js';
import { configPaths } from './config-paths.js';
import { MAX_INCLUDE_DEPTH } from './config-reader.js';
import { globPaths } from './include-glob.js';
import { expandTilde } from './tokens.js';

/** Where `hostAliases` reads; every field defaults to the running user's OpenSSH locations. */
export interface HostAliasOptions {
  /** One file instead of `~/.ssh/config` and the system file (`ssh -F`); `none` for none. */
  configFile?: string | undefined;
  /** @default the account's home (USERPROFILE on Windows) */
  homeDir?: string;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** A Host pattern that names one host: no wildcard, no negation. */
function isAlias(pattern: string): boolean {
  return pattern !== '' && !/[*?]/.test(pattern) && !pattern.startsWith('!');
}

/**
 * The `Host` names of ssh_config that stand for one host (no `*`/`?` patterns, no `!` negations),
 * Includes followed, in file order without duplicates: what shell completion offers, as
 * OpenSSH's bash-completion does. Unreadable files and bad lines are skipped, never fatal.
 */
export function hostAliases(options: HostAliasOptions = {}): string[] {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const homeDir =
    options.homeDir ?? (platform === 'win32' ? (env.USERPROFILE ?? os.homedir()) : accountHome());
  const paths = configPaths(platform, homeDir, env);
  const pathApi = platform === 'win32' ? path.win32 : path.posix;
  const seen = new Set<string>();

  const read = (file: string, userConfig: boolean, depth: number): void => {
    if (depth > MAX_INCLUDE_DEPTH) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let line: ReturnType<typeof lexLine>;
      try {
        line = lexLine(lines[i]!, file, i + 1);
      } catch {
        continue;
      }
      if (line?.keyword === 'host') {
        for (const a of line.args) if (isAlias(a)) seen.add(a);
      } else if (line?.keyword === 'include') {
        for (const arg of line.args) {
          let full: string;
          try {
            if (arg.startsWith('~')) full = expandTilde(arg, homeDir, file);
            else if (pathApi.isAbsolute(arg)) full = arg;
            else full = pathApi.join(userConfig ? pathApi.join(homeDir, '.ssh') : paths.systemDir, arg);
          } catch {
            continue;
          }
          for (const inc of globPaths(full, pathApi)) read(inc, userConfig, depth + 1);
        }
      }
    }
  };
  if (options.configFile === 'none') return [];
  if (options.configFile !== undefined) read(options.configFile, true, 0);
  else {
    read(paths.userConfig, true, 0);
    read(paths.systemConfig, false, 0);
  }
  return [...seen];
}

function accountHome(): string {
  try {
    return os.userInfo().homedir;
  } catch {
    return os.homedir();
  }
}
