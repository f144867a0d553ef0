import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

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
  return pino({ level: 'silent' });
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
  const destination = pino.destination({ fd: options.fd ?? 2, sync: true });
  if (options.json) {
    return pino(
      { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
      destination,
    );
  }
  return pino(
    {
      level,
      base: undefined,
      timestamp: false,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Human form: "sshmux[debug] host=h conn=1: message" — one line, no JSON.
        streamWrite: (line: string) => humanLine(line),
      },
    },
    destination,
  );
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
