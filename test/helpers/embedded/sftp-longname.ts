import type { Stats } from 'node:fs';
import os from 'node:os';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TYPE: [number, string][] = [
  [0o040000, 'd'],
  [0o120000, 'l'],
  [0o020000, 'c'],
  [0o060000, 'b'],
  [0o010000, 'p'],
  [0o140000, 's'],
];

/** `ls -l`'s mode string: type letter and rwx triplets with setuid/setgid/sticky. */
export function modeString(mode: number): string {
  const type = TYPE.find(([bits]) => (mode & 0o170000) === bits)?.[1] ?? '-';
  const rwx = (shift: number, special: number, letter: string): string => {
    const r = mode & (0o4 << shift) ? 'r' : '-';
    const w = mode & (0o2 << shift) ? 'w' : '-';
    const x = mode & (0o1 << shift);
    const s = mode & special;
    return r + w + (s ? (x ? letter : letter.toUpperCase()) : x ? 'x' : '-');
  };
  return type + rwx(6, 0o4000, 's') + rwx(3, 0o2000, 's') + rwx(0, 0o1000, 't');
}

/**
 * READDIR's longname as sftp-server.c's ls_file() writes it: mode, links, owner, group, size,
 * date (time of day within six months, else the year), name. Owners are numeric except the
 * server's own user, as there is no portable way to look names up.
 */
export function longName(name: string, st: Stats, now = Date.now()): string {
  const me = safeUser();
  const user = me && st.uid === me.uid ? me.username : String(st.uid);
  const group = String(st.gid);
  const d = new Date(st.mtimeMs);
  const recent = Math.abs(now - st.mtimeMs) < 182 * 24 * 3600 * 1000;
  const when = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${
    recent
      ? `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
      : String(d.getFullYear()).padStart(5)
  }`;
  return `${modeString(st.mode)} ${String(st.nlink).padStart(4)} ${user.padEnd(8)} ${group.padEnd(8)} ${String(st.size).padStart(8)} ${when} ${name}`;
}

function safeUser(): os.UserInfo<string> | undefined {
  try {
    return os.userInfo();
  } catch {
    return undefined;
  }
}
