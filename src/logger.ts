import { createRequire } from 'node:module';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

type Pino = typeof import('pino');

// pino (and its ~30 modules) loads on the first message that is really written: a CLI call that
// logs nothing, the common case, does not pay its start-up. It is CommonJS, so require() is sync.
const require = createRequire(import.meta.url);
let pinoModule: Pino | undefined;
const loadPino = (): Pino => {
  pinoModule ??= require('pino') as Pino;
  return pinoModule;
};

const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/**
 * A pino Logger that creates the real one only when a message at an enabled level arrives (or
 * something else than logging is asked of it). `child()` stays lazy and replays its bindings.
 */
function lazyLogger(level: string, create: () => Logger, bindings: readonly object[] = []): Logger {
  let real: Logger | undefined;
  const materialize = (): Logger => {
    if (!real) real = bindings.reduce<Logger>((l, b) => l.child(b), create());
    return real;
  };
  const threshold = LEVEL_VALUES[level] ?? LEVEL_VALUES.info!;
  const noop = (): void => {};
  return new Proxy({} as Logger, {
    get(_target, prop) {
      if (real) {
        const v = Reflect.get(real, prop, real) as unknown;
        return typeof v === 'function' ? v.bind(real) : v;
      }
      if (prop === 'level') return level;
      if (prop === 'isLevelEnabled') return (l: string) => (LEVEL_VALUES[l] ?? 0) >= threshold;
      if (prop === 'child') {
        return (b: object) => lazyLogger(level, create, [...bindings, b]);
      }
      if (typeof prop === 'string' && prop in LEVEL_VALUES && prop !== 'silent') {
        if (LEVEL_VALUES[prop]! < threshold) return noop;
      }
      if (prop === 'silent') return noop;
      const r = materialize();
      const v = Reflect.get(r, prop, r) as unknown;
      return typeof v === 'function' ? v.bind(r) : v;
    },
  });
}

/** Paths pino replaces with `[redacted]` wherever a caller might bind them. */
export const REDACT_PATHS = [
  'passphrase',
  'password',
  'privateKey',
  'key',
  'token',
  '*.passphrase',
  '*.password',
  '*.privateKey',
  '*.token',
  'config.privateKey',
  'config.passphrase',
];

/** The library default: logs nothing unless the caller injects a logger. */
export function silentLogger(): Logger {
  return lazyLogger('silent', () => loadPino().pino({ level: 'silent' }));
}

export interface CliLoggerOptions {
  /** 0 = warnings only, 1 = `-v` (info), 2+ = `-vv` (debug). @default 0 */
  verbosity?: number;
  /** JSON lines instead of human text. @default false */
  json?: boolean;
  /** Where logs go; the CLI keeps stdout for data. @default 2 (stderr) */
  fd?: number;
}

const LEVELS = ['warn', 'info', 'debug', 'trace'] as const;

/** The CLI logger: stderr only, so stdout stays clean for data. */
export function cliLogger(options: CliLoggerOptions = {}): Logger {
  const verbosity = Math.max(0, Math.min(options.verbosity ?? 0, LEVELS.length - 1));
  const level = LEVELS[verbosity] ?? 'warn';
  return lazyLogger(level, () => createCliLogger(level, options));
}

function createCliLogger(level: string, options: CliLoggerOptions): Logger {
  const { pino } = loadPino();
  const destination = pino.destination({ fd: options.fd ?? 2, sync: true });
  if (options.json) {
    return pino(
      { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
      destination,
    );
  }
  const human: LoggerOptions = {
    level,
    base: undefined,
    timestamp: false,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // Human form: "sshmux[debug] host=h conn=1: message" — one line, no JSON.
      streamWrite: (line: string) => humanLine(line),
    },
  };
  return pino(human, destination);
}

function humanLine(line: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, msg, err, ...rest } = obj;
  const ctx = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const errText =
    err && typeof err === 'object' && 'message' in err
      ? ` (${String((err as { message: unknown }).message)})`
      : '';
  return `sshmux[${String(level)}]${ctx ? ` ${ctx}` : ''}: ${String(msg ?? '')}${errText}\n`;
}
