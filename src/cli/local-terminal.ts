import type { PtyOptions } from '../pool/types.js';
import type { TerminalSize } from '../session/terminal-session.js';

/** The terminal whose size ssh reports: stdout's, else stderr's (ssh asks its stdin's fd, but Node sizes only output ttys). */
export function terminalSizeSource(): (NodeJS.WriteStream & TerminalSize) | undefined {
  return [process.stdout, process.stderr].find((s) => s.isTTY && s.columns > 0);
}

/** What ssh sends in its pty request: `$TERM` and the local terminal's size, when known. */
export function localTerminal(): PtyOptions {
  const tty = terminalSizeSource();
  return {
    ...(process.env.TERM && { term: process.env.TERM }),
    ...(tty && { rows: tty.rows, cols: tty.columns }),
  };
}
