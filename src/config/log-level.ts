import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';

/** log.c's names → what ssh -G prints (Debian's build spells QUIET `SILENT`, DEBUG1 `DEBUG`). */
export const LOG_LEVEL: Record<string, string> = {
  SILENT: 'SILENT',
  QUIET: 'SILENT',
  FATAL: 'FATAL',
  ERROR: 'ERROR',
  INFO: 'INFO',
  VERBOSE: 'VERBOSE',
  DEBUG: 'DEBUG',
  DEBUG1: 'DEBUG',
  DEBUG2: 'DEBUG2',
  DEBUG3: 'DEBUG3',
};

/** readconf.c's LogLevel: log_level_number(), case-insensitive; printed by log_level_name(). */
export function logLevel(line: ConfigLine): string {
  const arg = line.args[0] ?? '';
  const level = LOG_LEVEL[arg.toUpperCase()];
  if (level === undefined)
    throw new ConfigError(`${where(line.file, line.line)}: unsupported log level '${arg}'`);
  return level;
}

const ORDER = ['SILENT', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG2', 'DEBUG3'];

/**
 * Whether a host's LogLevel (as -G prints it, so `SILENT` for QUIET) lets messages of `level`
 * through, as log.c compares levels. No LogLevel is INFO.
 */
export function logsAt(
  host: { readonly effective?: ReadonlyMap<string, readonly string[]> },
  level: 'FATAL' | 'ERROR' | 'INFO',
): boolean {
  const set = LOG_LEVEL[host.effective?.get('loglevel')?.[0]?.toUpperCase() ?? 'INFO'] ?? 'INFO';
  return ORDER.indexOf(set) >= ORDER.indexOf(level);
}
