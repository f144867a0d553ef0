import { describe, expect, it } from 'vitest';
import { type EscapeOutput, EscapeReader } from '../../../src/session/escape-reader.js';

const TILDE = 0x7e;

/** Feed each chunk and flatten the output: data as strings, actions as `<action>`. */
function run(reader: EscapeReader, ...chunks: string[]): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    for (const piece of reader.feed(Buffer.from(c, 'latin1')) as EscapeOutput[]) {
      out.push('data' in piece ? piece.data.toString('latin1') : `<${piece.action}>`);
    }
  }
  return out;
}

describe('EscapeReader (clientloop.c process_escapes)', () => {
  it('recognises an escape as the very first byte', () => {
    expect(run(new EscapeReader(TILDE), '~.')).toEqual(['<disconnect>']);
  });

  it('recognises an escape after CR and after LF, not in the middle of a line', () => {
    expect(run(new EscapeReader(TILDE), 'ls\r~.')).toEqual(['ls\r', '<disconnect>']);
    expect(run(new EscapeReader(TILDE), 'ls\n~?')).toEqual(['ls\n', '<help>']);
    expect(run(new EscapeReader(TILDE), 'a~.')).toEqual(['a~.']);
  });

  it('maps every sequence ssh knows', () => {
    const seen = ['.', '\x1a', 'B', 'R', 'V', 'v', '&', '?', '#', 'C'].map(
      (c) => run(new EscapeReader(TILDE), `~${c}`)[0],
    );
    expect(seen).toEqual([
      '<disconnect>',
      '<suspend>',
      '<break>',
      '<rekey>',
      '<log-quieter>',
      '<log-louder>',
      '<background>',
      '<help>',
      '<list>',
      '<commandline>',
    ]);
  });

  it('sends one escape character for ~~, and it does not start a new escape', () => {
    expect(run(new EscapeReader(TILDE), '~~.').join('')).toBe('~.');
    expect(run(new EscapeReader(TILDE), '~~~.').join('')).toBe('~~.');
  });

  it('sends both characters for an unknown sequence', () => {
    expect(run(new EscapeReader(TILDE), '~x').join('')).toBe('~x');
    // An unknown sequence ending in a newline leaves the reader at a line start.
    expect(run(new EscapeReader(TILDE), '~\r~.')).toEqual(['~', '\r', '<disconnect>']);
  });

  it('keeps the line start after an action, so sequences chain as in ssh', () => {
    expect(run(new EscapeReader(TILDE), '~?~.')).toEqual(['<help>', '<disconnect>']);
  });

  it('carries a pending escape across chunks', () => {
    const r = new EscapeReader(TILDE);
    expect(run(r, 'echo\r~')).toEqual(['echo\r']);
    expect(run(r, '.')).toEqual(['<disconnect>']);
    const s = new EscapeReader(TILDE);
    expect(run(s, '~', 'ab').join('')).toBe('~ab');
  });

  it('carries the line-start state across chunks', () => {
    const r = new EscapeReader(TILDE);
    expect(run(r, 'x\n', '~#')).toEqual(['x\n', '<list>']);
    const s = new EscapeReader(TILDE);
    expect(run(s, 'x', '~#')).toEqual(['x', '~#']);
  });

  it('watches for another escape character, such as ^A', () => {
    const r = new EscapeReader(1);
    expect(run(r, '~.')).toEqual(['~.']);
    expect(run(new EscapeReader(1), '\x01.')).toEqual(['<disconnect>']);
    expect(run(new EscapeReader(1), '\x01\x01').join('')).toBe('\x01');
    expect(new EscapeReader(1).escapeChar).toBe('\x01');
  });

  it('passes binary data through untouched', () => {
    const bytes = Buffer.from([0, 255, 0x7e, 13, 10, 0x80]);
    const out = new EscapeReader(0x20).feed(bytes);
    expect(Buffer.concat(out.map((p) => ('data' in p ? p.data : Buffer.alloc(0))))).toEqual(bytes);
  });

  it('refuses an escape character that is not a byte', () => {
    expect(() => new EscapeReader(256)).toThrow(
      'Expected `escapeChar` to be a byte from 0 to 255, got `256`',
    );
  });
});
