import type { PacketReader, PacketWriter } from './sftp-codec.js';

const SIZE = 0x1;
const UIDGID = 0x2;
const PERMISSIONS = 0x4;
const ACMODTIME = 0x8;
const EXTENDED = 0x80000000;

/** SFTP v3 ATTRS: every field optional, as the flags word says. Times are seconds since the epoch. */
export interface SftpAttrs {
  /** Size in bytes. */
  size?: bigint;
  /** Owner's numeric user id. */
  uid?: number;
  /** Numeric group id. */
  gid?: number;
  /** st_mode: file type bits and permissions. */
  mode?: number;
  /** Last access, seconds since the epoch. */
  atime?: number;
  /** Last modification, seconds since the epoch. */
  mtime?: number;
}

const S_IFMT = 0o170000;
export const isDirectory = (a: SftpAttrs): boolean => ((a.mode ?? 0) & S_IFMT) === 0o040000;
export const isRegular = (a: SftpAttrs): boolean => ((a.mode ?? 0) & S_IFMT) === 0o100000;
export const isSymlink = (a: SftpAttrs): boolean => ((a.mode ?? 0) & S_IFMT) === 0o120000;

export function readAttrs(r: PacketReader): SftpAttrs {
  const flags = r.uint32();
  const a: SftpAttrs = {};
  if (flags & SIZE) a.size = r.uint64();
  if (flags & UIDGID) {
    a.uid = r.uint32();
    a.gid = r.uint32();
  }
  if (flags & PERMISSIONS) a.mode = r.uint32();
  if (flags & ACMODTIME) {
    a.atime = r.uint32();
    a.mtime = r.uint32();
  }
  if (flags & EXTENDED) {
    // Vendor extensions: skipped, as OpenSSH's client does.
    const count = r.uint32();
    for (let i = 0; i < count; i++) {
      r.string();
      r.string();
    }
  }
  return a;
}

export function writeAttrs(w: PacketWriter, a: SftpAttrs): void {
  let flags = 0;
  if (a.size !== undefined) flags |= SIZE;
  if (a.uid !== undefined && a.gid !== undefined) flags |= UIDGID;
  if (a.mode !== undefined) flags |= PERMISSIONS;
  if (a.atime !== undefined && a.mtime !== undefined) flags |= ACMODTIME;
  w.uint32(flags);
  if (a.size !== undefined) w.uint64(a.size);
  if (flags & UIDGID) w.uint32(a.uid!).uint32(a.gid!);
  if (a.mode !== undefined) w.uint32(a.mode);
  if (flags & ACMODTIME) w.uint32(a.atime!).uint32(a.mtime!);
}
