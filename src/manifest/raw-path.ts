import { isUtf8 } from 'node:buffer';

/**
 * Raw paths: file names as bytes carried in "binary" (latin1) strings. One code unit per
 * byte keeps non-UTF-8 names intact, makes `<` compare in byte order (like `LC_ALL=C sort`),
 * and lets `Buffer.from(raw, 'latin1')` give the exact bytes back for the file system.
 */

/** Raw path from bytes. */
export function rawFromBytes(bytes: Buffer): string {
  return bytes.toString('latin1');
}

/** Raw path from an ordinary (UTF-8) JS string, e.g. a command-line argument. */
export function rawFromString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The bytes of a raw path. */
export function rawToBytes(raw: string): Buffer {
  return Buffer.from(raw, 'latin1');
}

/** True when the raw path is valid UTF-8 (so it can travel as an ordinary JS string, e.g. over ssh2's SFTP). */
export function rawIsUtf8(raw: string): boolean {
  return isUtf8(rawToBytes(raw));
}

/** The raw path as an ordinary JS string; only meaningful when `rawIsUtf8(raw)`. */
export function rawToString(raw: string): string {
  return rawToBytes(raw).toString('utf8');
}

/** Join raw path components with `/`, ignoring empty and `.` parts. */
export function rawJoin(...parts: string[]): string {
  const kept = parts.filter((p) => p !== '' && p !== '.');
  if (kept.length === 0) return '.';
  return kept.map((p, i) => (i < kept.length - 1 ? p.replace(/\/+$/, '') : p)).join('/') || '/';
}

/** The directory part of a relative raw path (`''` for top level). */
export function rawDirname(raw: string): string {
  const i = raw.lastIndexOf('/');
  return i === -1 ? '' : raw.slice(0, i);
}

/** The last component of a raw path. */
export function rawBasename(raw: string): string {
  return raw.slice(raw.lastIndexOf('/') + 1);
}

/**
 * A raw path for people: UTF-8 decoded when valid, with `\\`, control characters and
 * invalid bytes escaped (`\n`, `\r`, `\t`, `\xNN`) so one name is always one line.
 */
export function displayPath(raw: string): string {
  const bytes = rawToBytes(raw);
  const text = isUtf8(bytes) ? bytes.toString('utf8') : undefined;
  if (text !== undefined) return escapeText(text);
  let out = '';
  let i = 0;
  // Decode valid UTF-8 runs, escape the bytes that are not.
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes, i);
    if (len === 0) {
      out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
      i++;
    } else {
      out += escapeText(bytes.subarray(i, i + len).toString('utf8'));
      i += len;
    }
  }
  return out;
}

function escapeText(text: string): string {
  return text.replace(/[\\\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\\') return '\\\\';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  const len =
    c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > b.length) return 0;
  return isUtf8(b.subarray(i, i + len)) ? len : 0;
}

/**
 * A POSIX-shell expression that expands to exactly these bytes, written in ASCII only:
 * `"$(printf '\ooo…x')"` would lose trailing newlines, so callers assign it with
 * `shellAssign`. Every byte outside a small safe set becomes an octal escape of printf's
 * *format* (POSIX), so the command text never carries the name's bytes as code.
 */
export function printfFormatOf(raw: string): string {
  let out = '';
  for (const byte of rawToBytes(raw)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_./-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/** Shell statement setting `name` to the raw bytes, trailing newlines included: `name=$(printf '…x'); name=${name%x}`. */
export function shellAssign(name: string, raw: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`Bad shell variable name \`${name}\``);
  return `${name}=$(printf '${printfFormatOf(raw)}x') && ${name}=\${${name}%x}`;
}

/**
 * A remote directory made safe for `cd`/`find`: relative paths get `./` so a leading `-` is
 * never an option and CDPATH is never consulted; empty means the login directory.
 */
export function safeRemoteDir(raw: string): string {
  if (raw === '' || raw === '.') return '.';
  if (raw.startsWith('/') || raw.startsWith('./') || raw.startsWith('../') || raw === '..') return raw;
  return `./${raw}`;
}
