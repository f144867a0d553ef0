import { ConfigError } from '../errors.js';

/**
 * EscapeChar as `ssh -G` prints it (`~`, `none`, `\^A` for a control character, `\^?` for DEL)
 * back to the byte the session watches for; null for `none`.
 */
export function escapeCharByte(printed: string): number | null {
  if (printed === 'none') return null;
  const control = /^\\\^(.)$/.exec(printed);
  if (control) return control[1] === '?' ? 127 : control[1]!.charCodeAt(0) & 31;
  const bytes = Buffer.from(printed, 'utf8');
  // ssh takes one byte (readconf.c, ssh.c -e): a character that encodes as more is refused there.
  if (bytes.length !== 1) throw new ConfigError(`Bad escape character '${printed}'.`);
  return bytes[0]!;
}
