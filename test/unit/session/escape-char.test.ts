import { describe, expect, it } from 'vitest';
import { escapeCharByte } from '../../../src/session/escape-char.js';

describe('escapeCharByte (EscapeChar as ssh -G prints it)', () => {
  it.each([
    ['~', 0x7e],
    ['%', 0x25],
    ['\\^A', 1],
    ['\\^]', 0x1d],
    ['\\^?', 127],
    ['none', null],
  ])('%s → %s', (printed, byte) => {
    expect(escapeCharByte(printed)).toBe(byte);
  });

  it('refuses a character of more than one byte, as ssh does', () => {
    expect(() => escapeCharByte('é')).toThrow("Bad escape character 'é'.");
  });
});
