import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { EscapeReader } from './escape-reader.js';
import { type RawModeInput, RawTerminal, type RestoreHooks } from './raw-terminal.js';
import { type EscapeTarget, runEscape } from './run-escape.js';

/** The local terminal's size, and its changes (a tty WriteStream's 'resize', also on Windows). */
export interface TerminalSize {
  /** Whether the output is a terminal. */
  readonly isTTY?: boolean;
  /** Terminal height. */
  readonly rows: number;
  /** Terminal width. */
  readonly columns: number;
  /** Listen for size changes. */
  on(event: 'resize', listener: () => void): unknown;
  /** Stop listening. */
  off(event: 'resize', listener: () => void): unknown;
}

/** The remote side of the session, once it runs. */
export interface SessionControl {
  /** Send the new size (`window-change`). */
  resize(size: { rows: number; cols: number }): void;
  /** Absent where the session cannot start a key re-exchange. */
  rekey?(): void;
  /** Absent where the session cannot send a BREAK. */
  sendBreak?(lengthMs: number): void;
}

/** Why the terminal ended the session itself. */
export type TerminalExit = 'disconnect' | 'background';

/** Options of `new TerminalSession()`. */
export interface TerminalSessionOptions {
  /** Local input: process.stdin; raw mode when it is a terminal and a pty was requested. */
  readonly input: Readable & RawModeInput;
  /** Where the window size comes from (process.stdout when it is a terminal). */
  readonly size: TerminalSize | undefined;
  /** Where escape help and messages go. */
  readonly stderr: NodeJS.WritableStream;
  /** A pty was requested: raw mode and escape sequences (ssh passes the escape char only then). */
  readonly pty: boolean;
  /** EscapeChar as a byte, or null for `none`. */
  readonly escapeChar: number | null;
  /** Whether the session runs through the sshmux daemon (known once it started). */
  readonly multiplexed: () => boolean;
  /** `~#`'s listing; by default only the session itself, in ssh's shape. */
  readonly listConnections?: () => string;
  /** Called when `~.` or `~&` ends the session from this side. */
  readonly onExit: (why: TerminalExit) => void;
  /** How raw mode is restored on exit and signals. @default the process's */
  readonly hooks?: RestoreHooks;
}

const EOF_CHARACTER = Buffer.of(4);

/** What `~#` shows for a session alone (channels.c channel_open_message). */
export function sessionOnlyListing(): string {
  return 'The following connections are open:\r\n  #0 client-session (t4 [session])\r\n';
}

/**
 * The local side of an interactive session, as ssh's client loop: raw mode while it runs (and
 * restored on every way out), window changes passed on, and escape sequences read from the
 * input before it goes to the remote. `input` is what the session should read as its stdin.
 */
export class TerminalSession {
  /** The keyboard input with escapes removed: pipe it to the remote stdin. */
  readonly input: Readable;
  readonly #opts: TerminalSessionOptions;
  readonly #terminal: RawTerminal;
  #control: SessionControl | undefined;
  #onResize = (): void => this.#sendSize();

  constructor(options: TerminalSessionOptions) {
    this.#opts = options;
    this.#terminal = new RawTerminal(options.input, options.hooks);
    this.input =
      options.pty && options.escapeChar !== null
        ? this.#escapeFilter(new EscapeReader(options.escapeChar))
        : options.input;
  }

  /** The session runs: raw mode (a pty on a local terminal), and window changes go to it. */
  attach(control: SessionControl): void {
    this.#control = control;
    if (!this.#opts.pty) return;
    this.#terminal.enter();
    this.#opts.size?.on('resize', this.#onResize);
  }

  /** The terminal as it was before; idempotent. */
  dispose(): void {
    this.#opts.size?.off('resize', this.#onResize);
    this.#terminal.dispose();
    if (this.input !== this.#opts.input) this.#opts.input.unpipe(this.input as Transform);
  }

  #sendSize(): void {
    const size = this.#opts.size;
    if (size?.isTTY !== true || !(size.columns > 0)) return;
    this.#control?.resize({ rows: size.rows, cols: size.columns });
  }

  #escapeFilter(reader: EscapeReader): Transform {
    let stopped = false;
    let filter: Transform;
    const opts = this.#opts;
    const target: EscapeTarget = {
      stderr: this.#opts.stderr,
      get multiplexed() {
        return opts.multiplexed();
      },
      commandLine: false,
      disconnect: () => {
        stopped = true;
        this.#opts.onExit('disconnect');
      },
      canSuspend: this.#terminal.canSuspend,
      suspend: () => {
        this.#terminal.suspend();
        // The size may have changed while we were stopped (ssh: received_window_change_signal).
        this.#sendSize();
      },
      background: () => {
        // ssh forks, the parent exits 0 and the child sends the remote an end-of-file
        // character; with nothing left to serve here, that is all the child does.
        stopped = true;
        this.#terminal.leave();
        filter.push(EOF_CHARACTER);
        this.#opts.onExit('background');
      },
      listConnections: this.#opts.listConnections ?? sessionOnlyListing,
      rekey: () => {
        if (this.#control?.rekey) this.#control.rekey();
        else
          this.#opts.stderr.write(
            `${reader.escapeChar}R is not supported by sshmux for this session; nothing was sent\r\n`,
          );
      },
      sendBreak: () => {
        // ssh sends 1000 ms, as its clientloop.c does.
        if (this.#control?.sendBreak) this.#control.sendBreak(1000);
        else this.#opts.stderr.write('sshmux cannot send a BREAK on this session; nothing was sent\r\n');
      },
    };
    const source = this.#opts.input;
    let reading = false;
    filter = new Transform({
      // Local input is read only once the session reads it: until then the terminal belongs to
      // the connect's prompts (passphrase, host key), which read /dev/tty themselves.
      read(size: number): void {
        if (!reading) {
          reading = true;
          source.pipe(filter);
        }
        Transform.prototype._read.call(this, size);
      },
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
        for (const piece of stopped ? [] : reader.feed(chunk)) {
          if (stopped) break;
          if ('data' in piece) this.push(piece.data);
          else runEscape(piece.action, reader.escapeChar, target);
        }
        done();
      },
    });
    return filter;
  }
}
