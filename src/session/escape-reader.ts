/** What an escape sequence asks the session to do (clientloop.c process_escapes). */
export type EscapeAction =
  | 'disconnect'
  | 'suspend'
  | 'break'
  | 'rekey'
  | 'log-quieter'
  | 'log-louder'
  | 'background'
  | 'help'
  | 'list'
  | 'commandline';

/** One piece of the reader's output, in input order: bytes for the remote, or an action. */
export type EscapeOutput =
  | {
      /** Bytes to send to the server as they are. */
      readonly data: Buffer;
    }
  | {
      /** An escape sequence the client acts on. */
      readonly action: EscapeAction;
    };

const ACTIONS: Readonly<Record<number, EscapeAction>> = {
  46: 'disconnect', // .
  26: 'suspend', // ^Z
  66: 'break', // B
  82: 'rekey', // R
  86: 'log-quieter', // V
  118: 'log-louder', // v
  38: 'background', // &
  63: 'help', // ?
  35: 'list', // #
  67: 'commandline', // C
};

const CR = 0x0d;
const LF = 0x0a;

/**
 * ssh's escape sequences on the bytes typed at a pty session: the escape character counts only
 * at the start of a line (the very first byte, or after CR or LF), `~~` sends one escape
 * character, and an escape followed by anything else sends both. A pure transform: the caller
 * performs the actions. The line-start state survives an action, so `~?~.` works as in ssh.
 */
export class EscapeReader {
  readonly #escape: number;
  #atLineStart = true;
  #pending = false;

  /** `escapeChar` as a byte (0–255). */
  constructor(escapeChar: number) {
    if (!Number.isInteger(escapeChar) || escapeChar < 0 || escapeChar > 255) {
      throw new RangeError(`Expected \`escapeChar\` to be a byte from 0 to 255, got \`${escapeChar}\``);
    }
    this.#escape = escapeChar;
  }

  /** The escape character, as ssh echoes it before each sequence (`~.`). */
  get escapeChar(): string {
    return String.fromCharCode(this.#escape);
  }

  /** Split a chunk of keyboard input into data to send and escape actions, in order. */
  feed(chunk: Buffer): EscapeOutput[] {
    const out: EscapeOutput[] = [];
    let start = 0;
    const flush = (end: number): void => {
      if (end > start) out.push({ data: chunk.subarray(start, end) });
    };
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.#pending) {
        this.#pending = false;
        const action = ACTIONS[ch];
        if (action !== undefined) {
          out.push({ action });
          start = i + 1;
          continue;
        }
        // Not a sequence: the escape character goes out too, unless this byte is the escape
        // character itself (`~~`), which then goes out once.
        if (ch !== this.#escape) out.push({ data: Buffer.of(this.#escape) });
        start = i;
      } else if (this.#atLineStart && ch === this.#escape) {
        flush(i);
        this.#pending = true;
        start = i + 1;
        continue;
      }
      this.#atLineStart = ch === CR || ch === LF;
    }
    flush(chunk.length);
    return out;
  }
}
