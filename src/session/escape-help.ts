/** How the session runs, for the lines ssh leaves out of its escape help. */
export interface EscapeHelpOptions {
  /** Through the sshmux daemon (ssh's mux client): `~.` ends this session only. */
  readonly multiplexed: boolean;
  /** EnableEscapeCommandline: the `~C` line is shown only when it is on. */
  readonly commandLine: boolean;
}

const SHOWN_ALWAYS = 0;
const NOT_MULTIPLEXED = 1;
const ONLY_MULTIPLEXED = 2;
const NEEDS_COMMANDLINE = 4;

/** ssh 9.2's table (clientloop.c esc_txt), minus what sshmux does differently, said below. */
const LINES: readonly [string, string, number][] = [
  ['.', 'terminate session', ONLY_MULTIPLEXED],
  ['.', 'terminate connection (and any multiplexed sessions)', NOT_MULTIPLEXED],
  ['B', 'send a BREAK to the remote system', SHOWN_ALWAYS],
  ['C', 'open a command line', NEEDS_COMMANDLINE],
  ['R', 'request rekey', SHOWN_ALWAYS],
  ['V/v', 'decrease/increase verbosity (LogLevel)', SHOWN_ALWAYS],
  ['^Z', 'suspend ssh', SHOWN_ALWAYS],
  ['#', 'list forwarded connections', SHOWN_ALWAYS],
  ['&', 'background ssh (when waiting for connections to terminate)', SHOWN_ALWAYS],
  ['?', 'this message', SHOWN_ALWAYS],
];

/**
 * The text `~?` prints, as ssh prints it with the escape character substituted. sshmux's
 * client keeps ^Z, V/v and & through the daemon too (ssh's mux client hides them because its
 * master owns the terminal; here this process does), so only `~.` differs between the paths.
 */
export function escapeHelpText(escapeChar: string, options: EscapeHelpOptions): string {
  const e = escapeChar;
  let text = `${e}?\r\nSupported escape sequences:\r\n`;
  for (const [cmd, what, flags] of LINES) {
    if (flags & ONLY_MULTIPLEXED && !options.multiplexed) continue;
    if (flags & NOT_MULTIPLEXED && options.multiplexed) continue;
    if (flags & NEEDS_COMMANDLINE && !options.commandLine) continue;
    text += ` ${e}${cmd.padEnd(3)} - ${what}\r\n`;
  }
  return `${text} ${e}${e}   - send the escape character by typing it twice\r\n(Note that escapes are only recognized immediately after newline.)\r\n`;
}
