import type { SftpClient, SftpPath } from './sftp-client.js';
import { PacketReader } from './sftp-codec.js';

/** statvfs@openssh.com's answer: struct statvfs, every field 64 bits. */
export interface SftpStatvfs {
  /** File system block size (f_bsize). */
  bsize: bigint;
  /** Fundamental block size (f_frsize). */
  frsize: bigint;
  /** Size in f_frsize units. */
  blocks: bigint;
  /** Free blocks. */
  bfree: bigint;
  /** Free blocks for unprivileged users. */
  bavail: bigint;
  /** Inodes. */
  files: bigint;
  /** Free inodes. */
  ffree: bigint;
  /** Free inodes for unprivileged users. */
  favail: bigint;
  /** File system id. */
  fsid: bigint;
  /** Mount flags (1 read-only, 2 nosuid). */
  flag: bigint;
  /** Longest file name. */
  namemax: bigint;
}

const STATVFS_FIELDS = [
  'bsize',
  'frsize',
  'blocks',
  'bfree',
  'bavail',
  'files',
  'ffree',
  'favail',
  'fsid',
  'flag',
  'namemax',
] as const;

/** The file system statistics of the file system holding `path` (statvfs@openssh.com, as `df`). */
export async function statvfs(client: SftpClient, path: SftpPath): Promise<SftpStatvfs> {
  const r = await client.extendedReply('statvfs@openssh.com', path, (w) => w.string(path));
  return Object.fromEntries(STATVFS_FIELDS.map((k) => [k, r.uint64()])) as unknown as SftpStatvfs;
}

/** users-groups-by-id@openssh.com: names for uids and gids ('' where the server has none). */
export async function usersGroupsById(
  client: SftpClient,
  uids: readonly number[],
  gids: readonly number[],
): Promise<{ users: Buffer[]; groups: Buffer[] }> {
  const ids = (list: readonly number[]) => {
    const b = Buffer.alloc(list.length * 4);
    for (const [i, id] of list.entries()) b.writeUInt32BE(id, i * 4);
    return b;
  };
  const r = await client.extendedReply('users-groups-by-id@openssh.com', '', (w) =>
    w.string(ids(uids)).string(ids(gids)),
  );
  const names = (count: number, from: Buffer) => {
    const sub = new PacketReader(from);
    return Array.from({ length: count }, () => Buffer.from(sub.string()));
  };
  return { users: names(uids.length, r.string()), groups: names(gids.length, r.string()) };
}

/** copy-data: the server copies one open file into another (all of it, from offset 0). */
export async function copyData(client: SftpClient, from: Buffer, to: Buffer, path: SftpPath): Promise<void> {
  await client.extendedStatus('copy-data', path, (w) =>
    w.string(from).uint64(0).uint64(0).string(to).uint64(0),
  );
}
