/**
 * Text from a server made safe for our terminal as ssh's fmprintf makes it (utf8.c): printable
 * characters, newline, carriage return and tab pass; any other control character is written as
 * octal escapes of its bytes (`\\033`), so a banner cannot move the cursor or retitle the window.
 */
export function terminalSafe(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const control = c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0);
    if (!control || ch === '\n' || ch === '\r' || ch === '\t') {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}
