/**
 * How OpenSSH makes text safe for the terminal. Strings here are byte strings in latin1 (one
 * char per byte), so names that are not UTF-8 are printed exactly as OpenSSH prints them.
 */

const octal = (byte: number): string => `\\${byte.toString(8).padStart(3, '0')}`;

/** The bytes of a message: latin1 chars are bytes; anything wider (a JS string from argv) is UTF-8. */
function toBytes(text: string): Buffer {
  if (!/[^\u0000-\u00ff]/.test(text)) return Buffer.from(text, 'latin1');
  return Buffer.concat(
    [...text].map((ch) =>
      ch.charCodeAt(0) <= 0xff && ch.length === 1 ? Buffer.from(ch, 'latin1') : Buffer.from(ch),
    ),
  );
}

/**
 * log.c: strnvis(VIS_SAFE|VIS_OCTAL) over a whole error() line — every byte from 0x80 up and
 * every control character except tab, newline, CR, backspace and bell as `\ooo`, `\` as `\\`.
 */
export function logVis(text: string): Buffer {
  let out = '';
  for (const c of toBytes(text)) {
    if (c === 0x5c) out += '\\\\';
    else if (c >= 0x80 || c === 0x7f || (c < 0x20 && ![0x09, 0x0a, 0x0d, 0x08, 0x07].includes(c)))
      out += octal(c);
    else out += String.fromCharCode(c);
  }
  return Buffer.from(out, 'latin1');
}

/**
 * utf8.c mprintf (a UTF-8 locale): valid UTF-8 passes, as do tab and newline; a byte that is
 * not part of a valid sequence, or a character that is not printable, is shown as `\ooo`.
 */
export function mprintfVis(text: string): Buffer {
  const bytes = toBytes(text);
  const parts: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c < 0x80) {
      const safe = c >= 0x20 ? c !== 0x7f : c === 0x09 || c === 0x0a || c === 0x0d;
      parts.push(safe ? Buffer.from([c]) : Buffer.from(octal(c), 'latin1'));
      i++;
      continue;
    }
    const n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    const seq = n > 0 ? bytes.subarray(i, i + n) : undefined;
    const decoded = seq && seq.length === n ? seq.toString('utf8') : '';
    const valid = decoded !== '' && !decoded.includes('\ufffd') && Buffer.from(decoded).equals(seq!);
    const printable = valid && !/[\p{Cc}\p{Cn}]/u.test(decoded);
    if (printable) {
      parts.push(seq!);
      i += n;
    } else {
      parts.push(Buffer.from(octal(c), 'latin1'));
      i++;
    }
  }
  return Buffer.concat(parts);
}
