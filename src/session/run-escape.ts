import { escapeHelpText } from './escape-help.js';
import type { EscapeAction } from './escape-reader.js';

/** What an escape sequence can do to the session it was typed in. */
export interface EscapeTarget {
  readonly stderr: NodeJS.WritableStream;
  /** Through the sshmux daemon: `~?` says `~.` ends this session only. */
  readonly multiplexed: boolean;
  /** EnableEscapeCommandline. */
  readonly commandLine: boolean;
  disconnect(): void;
  /** Whether `suspend` can work here (job control: not on Windows). */
  readonly canSuspend: boolean;
  /** Restore the terminal, stop until continued, then raw mode and the window size again. */
  suspend(): void;
  /** `~&`: leave the remote side to finish by itself (it reads an end-of-file character). */
  background(): void;
  /** `~#`: ssh's "The following connections are open:" listing, lines ending in CR LF. */
  listConnections(): string;
  /** `~R`: start a key re-exchange on the session's connection. */
  rekey(): void;
  /** `~B`: send a BREAK on the session's channel. */
  sendBreak(): void;
}

/** Perform one escape sequence as clientloop.c's process_escapes does, with ssh's messages. */
export function runEscape(action: EscapeAction, escapeChar: string, target: EscapeTarget): void {
  const e = escapeChar;
  const say = (text: string): void => {
    target.stderr.write(text);
  };
  switch (action) {
    case 'disconnect':
      // ssh 9.2 queues "~." on the session's stderr buffer and quits before writing it out:
      // only "Connection to … closed." shows, so nothing is echoed here.
      target.disconnect();
      return;
    case 'suspend':
      if (!target.canSuspend) {
        say(`${e}^Z is not available here: this system has no job control (SIGTSTP)\r\n`);
        return;
      }
      say(`${e}^Z [suspend ssh]\r\n`);
      target.suspend();
      return;
    case 'break':
      say(`${e}B\r\n`);
      target.sendBreak();
      return;
    case 'rekey':
      target.rekey();
      return;
    case 'log-quieter':
    case 'log-louder': {
      const ch = action === 'log-quieter' ? 'V' : 'v';
      // Through the daemon the session is a multiplexed one: ssh's words for a mux session.
      if (target.multiplexed) {
        say(`${e}${ch} escape not available to multiplexed sessions\r\n`);
        return;
      }
      say(
        `${e}${ch} is not supported by sshmux (its LogLevel is fixed for the session); give -v or -q instead\r\n`,
      );
      return;
    }
    case 'background':
      say(`${e}& [backgrounded]\n`);
      target.background();
      return;
    case 'help':
      say(escapeHelpText(e, target));
      return;
    case 'list':
      say(`${e}#\r\n${target.listConnections()}`);
      return;
    case 'commandline':
      say(
        target.commandLine
          ? 'sshmux has no escape command line (~C); set EnableEscapeCommandline no\r\n'
          : 'commandline disabled\r\n',
      );
      return;
  }
}
