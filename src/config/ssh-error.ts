import { ConfigError } from '../errors.js';

/** Messages worded exactly as OpenSSH 9.2 words them, printed without sshmux's prefix. */
const VERBATIM = 'SSHMUX_ERR_SSH_CONFIG';
/** The same, but ssh writes it with fprintf (a bare `\n`, shown even with -q). */
const VERBATIM_PLAIN = 'SSHMUX_ERR_SSH_CONFIG_PLAIN';
/** The same, but raised while reading files: ssh logs those, so `-q` (LogLevel QUIET) hides them. */
const VERBATIM_LOGGED = 'SSHMUX_ERR_SSH_CONFIG_LOGGED';

/**
 * A ConfigError whose message is OpenSSH's own text (`c: line 2: Bad configuration option: x`),
 * so `sshmux ssh` can print it as ssh does. `logged`: ssh emits it through its log, which `-q` silences
 * (errors from `-o` come before ssh sets up logging and always show).
 */
export function sshConfigError(
  message: string,
  options: { logged?: boolean; plain?: boolean; cause?: unknown } = {},
): ConfigError {
  return new ConfigError(message, {
    code: options.plain ? VERBATIM_PLAIN : options.logged ? VERBATIM_LOGGED : VERBATIM,
    ...(options.cause !== undefined && { cause: options.cause }),
  });
}

export function isSshConfigError(err: unknown): boolean {
  return (
    err instanceof ConfigError &&
    (err.code === VERBATIM || err.code === VERBATIM_LOGGED || err.code === VERBATIM_PLAIN)
  );
}

/** What ssh would print for `err` on stderr (undefined: nothing), given `-q`, line endings included. */
export function sshErrorText(err: ConfigError, quiet: boolean): string | undefined {
  if (err.code === VERBATIM_PLAIN) return `${err.message}\n`;
  if (err.code === VERBATIM_LOGGED && quiet) return undefined;
  return asSshLogLines(err.message);
}

/** ssh's log lines on stderr end with `\r\n` (log.c), also when stderr is not a terminal. */
export function asSshLogLines(text: string): string {
  return text
    .split('\n')
    .map((l) => `${l}\r\n`)
    .join('');
}
