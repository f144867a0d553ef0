import type { SftpAttrs } from '../transfer/sftp-attrs.js';
import type { SftpClient } from '../transfer/sftp-client.js';
import { usersGroupsById } from '../transfer/sftp-extensions.js';

/** ls's flags in sftp (parse_ls_flags). */
export interface LsFlags {
  long: boolean;
  single: boolean;
  numeric: boolean;
  all: boolean;
  si: boolean;
  reverse: boolean;
  sort: 'name' | 'time' | 'size' | 'none';
}

export interface LsEntry {
  /** The name as printed (latin1: one char per byte). */
  name: string;
  attrs: SftpAttrs;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strmode(3): type letter, rwx triplets with setuid/setgid/sticky, and a trailing space. */
export function strmode(mode: number): string {
  const types: [number, string][] = [
    [0o040000, 'd'],
    [0o120000, 'l'],
    [0o020000, 'c'],
    [0o060000, 'b'],
    [0o010000, 'p'],
    [0o140000, 's'],
  ];
  let s = types.find(([t]) => t === (mode & 0o170000))?.[1] ?? '-';
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const special = (x: number, sBit: number, on: string, off: string) =>
    mode & sBit ? (mode & x ? on : off) : mode & x ? 'x' : '-';
  s += bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S');
  s += bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S');
  s += bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T');
  return `${s} `;
}

/** OpenBSD fmt_scaled: at most 4 characters, one decimal below 100 in a unit above bytes. */
export function fmtScaled(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P', 'E'];
  if (bytes < 1024) return `${bytes}B`;
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (value < 100) {
    const tenths = Math.round(value * 10);
    if (tenths < 1000) return `${Math.floor(tenths / 10)}.${tenths % 10}${units[unit]}`;
  }
  return `${Math.round(value)}${units[unit]}`;
}

function timeText(mtime: number, now: number): string {
  const d = new Date(mtime * 1000);
  const day = String(d.getDate()).padStart(2);
  const recent = now - (365 * 24 * 60 * 60) / 2 < mtime && now >= mtime;
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return recent
    ? `${MONTHS[d.getMonth()]} ${day} ${hm}`
    : `${MONTHS[d.getMonth()]} ${day}  ${d.getFullYear()}`;
}

/** sftp-common.c ls_file for a remote entry: the link count is `?`, owners by name when known. */
export function longLine(
  e: LsEntry,
  user: string,
  group: string,
  si: boolean,
  now = Date.now() / 1000,
): string {
  const a = e.attrs;
  const size = Number(a.size ?? 0n);
  const sizeText = (si ? fmtScaled(size) : String(size)).padStart(8);
  return `${strmode(a.mode ?? 0)}   ? ${user.padEnd(8)} ${group.padEnd(8)} ${sizeText} ${timeText(a.mtime ?? 0, now)} ${e.name}`;
}

/** Sort as sdirent_comp: by name (strcmp), mtime or size (largest, newest first), optionally reversed. */
export function sortEntries(entries: LsEntry[], flags: LsFlags): LsEntry[] {
  if (flags.sort === 'none') return entries;
  const dir = flags.reverse ? -1 : 1;
  const cmp = (x: LsEntry, y: LsEntry): number => {
    if (flags.sort === 'time') return dir * Math.sign((y.attrs.mtime ?? 0) - (x.attrs.mtime ?? 0));
    if (flags.sort === 'size') return dir * Math.sign(Number((y.attrs.size ?? 0n) - (x.attrs.size ?? 0n)));
    return dir * Buffer.compare(Buffer.from(x.name, 'latin1'), Buffer.from(y.name, 'latin1'));
  };
  return [...entries].sort(cmp);
}

/**
 * Print entries as do_ls_dir / do_globbed_ls do: long lines, one per line (-1), or columns
 * over an 80-wide screen (`width`) sized by the longest name plus `extra`.
 */
export async function printListing(
  client: SftpClient,
  entries: LsEntry[],
  flags: LsFlags,
  out: (text: string) => void,
  longest: number,
): Promise<void> {
  if (flags.long) {
    // sftp 9.2 prints owner names for -n as well, whenever the server can name them.
    const names = await ownerNames(client, entries);
    for (const e of entries) {
      const user = names?.users.get(e.attrs.uid ?? 0) || String(e.attrs.uid ?? 0);
      const group = names?.groups.get(e.attrs.gid ?? 0) || String(e.attrs.gid ?? 0);
      out(`${longLine(e, user, group, flags.si)}\n`);
    }
    return;
  }
  if (flags.single) {
    for (const e of entries) out(`${e.name}\n`);
    return;
  }
  const width = 80;
  const columns = Math.max(1, Math.floor(width / (longest + 2)));
  const colspace = Math.min(Math.floor(width / columns), width);
  let c = 1;
  for (const e of entries) {
    out(e.name.padEnd(colspace));
    if (c >= columns) {
      out('\n');
      c = 1;
    } else c++;
  }
  if (c !== 1) out('\n');
}

async function ownerNames(client: SftpClient, entries: LsEntry[]) {
  if (!client.has('users-groups-by-id@openssh.com')) return undefined;
  const uids = [...new Set(entries.map((e) => e.attrs.uid ?? 0))];
  const gids = [...new Set(entries.map((e) => e.attrs.gid ?? 0))];
  const r = await usersGroupsById(client, uids, gids).catch(() => undefined);
  if (!r) return undefined;
  return {
    users: new Map(uids.map((id, i) => [id, r.users[i]!.toString('latin1')])),
    groups: new Map(gids.map((id, i) => [id, r.groups[i]!.toString('latin1')])),
  };
}
