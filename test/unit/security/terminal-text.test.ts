import { describe, expect, it } from 'vitest';
import { terminalSafe } from '../../../src/security/terminal-text.js';

describe('terminalSafe (ssh fmprintf)', () => {
  it('passes printable text, newline, carriage return and tab', () => {
    expect(terminalSafe('Hello, wörld ✓\r\n\tx')).toBe('Hello, wörld ✓\r\n\tx');
  });

  it('writes other control characters as octal escapes of their bytes', () => {
    expect(terminalSafe('\u001b[31m\u0007\u0000\u007f')).toBe('\\033[31m\\007\\000\\177');
    expect(terminalSafe('\u009b')).toBe('\\302\\233');
  });
});
