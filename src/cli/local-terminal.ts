import type { PtyOptions } from '../pool/types.js';
import { type TerminalExit, TerminalSession, type TerminalSize } from '../session/terminal-session.js';
import type { SessionStdio, SshRequest } from './ssh-direct.js';

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

/**
 * Raw mode, window changes and escape sequences (`~.` and friends) on the local terminal for a
 * session that reads stdin; its `input` is what the session must read instead of stdin.
 */
export function localTerminalSession(
  request: Pick<SshRequest, 'pty' | 'forwarding'>,
  io: SessionStdio,
  escapeChar: number | null,
  multiplexed: () => boolean,
  onExit: (why: TerminalExit) => void,
): TerminalSession | undefined {
  if (io.stdin === null) return undefined;
  return new TerminalSession({
    input: process.stdin,
    size: terminalSizeSource(),
    stderr: io.stderr,
    pty: request.pty !== false,
    escapeChar,
    multiplexed,
    onExit,
    // `~#`: the forwarded connections too, when the run has forwards.
    ...(request.forwarding && { listConnections: () => request.forwarding!.listConnections() }),
  });
}
