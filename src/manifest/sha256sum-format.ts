import { rawToBytes } from './raw-path.js';

/**
 * GNU coreutils (9.x) `sha256sum` line format. A name containing `\`, newline or carriage
 * return is escaped (`\\`, `\n`, `\r`) and the line then starts with a `\`; every other
 * byte is written as is. Returned as bytes because names need not be UTF-8.
 */
export function sha256sumLine(sha256: string, rawName: string): Buffer {
  const name = rawToBytes(rawName);
  const escaped = needsEscape(name);
  const parts: Buffer[] = [Buffer.from(`${escaped ? '\\' : ''}${sha256}  `, 'latin1')];
  parts.push(escaped ? escapeName(name) : name, Buffer.from('\n'));
  return Buffer.concat(parts);
}

function needsEscape(name: Buffer): boolean {
  return name.includes(0x5c) || name.includes(0x0a) || name.includes(0x0d);
}

function escapeName(name: Buffer): Buffer {
  const out: number[] = [];
  for (const b of name) {
    if (b === 0x5c) out.push(0x5c, 0x5c);
    else if (b === 0x0a) out.push(0x5c, 0x6e);
    else if (b === 0x0d) out.push(0x5c, 0x72);
    else out.push(b);
  }
  return Buffer.from(out);
}
