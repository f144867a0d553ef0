import { constants as fsc, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2, { type Attributes, type FileEntry, type SFTPWrapper } from 'ssh2';
import { longName } from './sftp-longname.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;
/** OpenSSH's sftp-server answers at most this much per READ. */
const MAX_READ = 256 * 1024;
/** Names per READDIR answer (sftp-server.c sends 100). */
const DIR_BATCH = 100;

type Handle = { kind: 'file'; file: fs.FileHandle } | { kind: 'dir'; entries: FileEntry[]; next: number };

/**
 * The server side of SFTP v3 over the local file system, rooted nowhere (absolute paths are
 * the machine's own, as sftp-server's are) with relative paths from `home`, like sftp-server
 * started in the user's home directory. Every request is answered: errors as SFTP statuses
 * with errno's text; requests not implemented (extensions) as OP_UNSUPPORTED by ssh2 itself.
 * RENAME keeps v3's no-overwrite rule, as OpenSSH's server does without posix-rename.
 */
export function serveSftp(sftp: SFTPWrapper, home: string): void {
  const handles = new Map<number, Handle>();
  let nextHandle = 0;
  const local = (p: string): string => toLocal(p, home);

  const open = (h: Handle): Buffer => {
    const id = nextHandle++;
    handles.set(id, h);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const lookup = (b: Buffer): Handle | undefined =>
    b.length === 4 ? handles.get(b.readUInt32BE()) : undefined;
  const fileOf = (reqid: number, b: Buffer): fs.FileHandle | undefined => {
    const h = lookup(b);
    if (h?.kind === 'file') return h.file;
    sftp.status(reqid, STATUS_CODE.FAILURE, 'Invalid handle');
    return undefined;
  };
  // Each handler answers exactly once: its value, or the error as a status.
  const answer = (reqid: number, work: () => Promise<void>): void => {
    work().catch((err: unknown) => fail(sftp, reqid, err));
  };
  const ok = (reqid: number): void => sftp.status(reqid, STATUS_CODE.OK);

  sftp.on('OPEN', (reqid, filename, flags, attrs) =>
    answer(reqid, async () => {
      const file = await fs.open(local(filename), openFlags(flags), attrs.mode ?? 0o666);
      sftp.handle(reqid, open({ kind: 'file', file }));
    }),
  );
  sftp.on('READ', (reqid, handle, offset, length) => {
    const file = fileOf(reqid, handle);
    if (!file) return;
    answer(reqid, async () => {
      const buf = Buffer.alloc(Math.min(length, MAX_READ));
      const { bytesRead } = await file.read(buf, 0, buf.length, offset);
      if (bytesRead === 0 && length > 0) sftp.status(reqid, STATUS_CODE.EOF);
      else sftp.data(reqid, buf.subarray(0, bytesRead));
    });
  });
  sftp.on('WRITE', (reqid, handle, offset, data) => {
    const file = fileOf(reqid, handle);
    if (!file) return;
    answer(reqid, async () => {
      let done = 0;
      while (done < data.length)
        done += (await file.write(data, done, data.length - done, offset + done)).bytesWritten;
      ok(reqid);
    });
  });
  sftp.on('CLOSE', (reqid, handle) => {
    const h = lookup(handle);
    if (!h) return sftp.status(reqid, STATUS_CODE.FAILURE, 'Invalid handle');
    handles.delete(handle.readUInt32BE());
    if (h.kind === 'dir') return ok(reqid);
    answer(reqid, async () => {
      await h.file.close();
      ok(reqid);
    });
  });
  sftp.on('FSTAT', (reqid, handle) => {
    const file = fileOf(reqid, handle);
    if (file) answer(reqid, async () => sftp.attrs(reqid, toAttrs(await file.stat())));
  });
  sftp.on('FSETSTAT', (reqid, handle, attrs) => {
    const file = fileOf(reqid, handle);
    if (!file) return;
    answer(reqid, async () => {
      if (attrs.size !== undefined) await file.truncate(attrs.size);
      if (attrs.mode !== undefined) await file.chmod(attrs.mode & 0o7777);
      if (attrs.uid !== undefined && attrs.gid !== undefined) await file.chown(attrs.uid, attrs.gid);
      if (attrs.atime !== undefined && attrs.mtime !== undefined) await file.utimes(attrs.atime, attrs.mtime);
      ok(reqid);
    });
  });
  sftp.on('STAT', (reqid, p) =>
    answer(reqid, async () => sftp.attrs(reqid, toAttrs(await fs.stat(local(p))))),
  );
  sftp.on('LSTAT', (reqid, p) =>
    answer(reqid, async () => sftp.attrs(reqid, toAttrs(await fs.lstat(local(p))))),
  );
  sftp.on('SETSTAT', (reqid, p, attrs) =>
    answer(reqid, async () => {
      const target = local(p);
      if (attrs.size !== undefined) await fs.truncate(target, attrs.size);
      if (attrs.mode !== undefined) await fs.chmod(target, attrs.mode & 0o7777);
      if (attrs.uid !== undefined && attrs.gid !== undefined) await fs.chown(target, attrs.uid, attrs.gid);
      if (attrs.atime !== undefined && attrs.mtime !== undefined)
        await fs.utimes(target, attrs.atime, attrs.mtime);
      ok(reqid);
    }),
  );
  sftp.on('OPENDIR', (reqid, p) =>
    answer(reqid, async () => {
      const dir = local(p);
      const names = ['.', '..', ...(await fs.readdir(dir))];
      const entries: FileEntry[] = [];
      for (const name of names) {
        // A name that vanished between readdir and lstat is skipped, as readdir(3) would never have shown it.
        const st = await fs.lstat(path.join(dir, name)).catch(() => undefined);
        if (st) entries.push({ filename: name, longname: longName(name, st), attrs: toAttrs(st) });
      }
      sftp.handle(reqid, open({ kind: 'dir', entries, next: 0 }));
    }),
  );
  sftp.on('READDIR', (reqid, handle) => {
    const h = lookup(handle);
    if (h?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'Invalid handle');
    if (h.next >= h.entries.length) return sftp.status(reqid, STATUS_CODE.EOF);
    sftp.name(reqid, h.entries.slice(h.next, h.next + DIR_BATCH));
    h.next += DIR_BATCH;
  });
  sftp.on('REMOVE', (reqid, p) =>
    answer(reqid, async () => {
      await fs.unlink(local(p));
      ok(reqid);
    }),
  );
  sftp.on('MKDIR', (reqid, p, attrs) =>
    answer(reqid, async () => {
      await fs.mkdir(local(p), { mode: attrs.mode ?? 0o777 });
      ok(reqid);
    }),
  );
  sftp.on('RMDIR', (reqid, p) =>
    answer(reqid, async () => {
      await fs.rmdir(local(p));
      ok(reqid);
    }),
  );
  sftp.on('RENAME', (reqid, from, to) =>
    answer(reqid, async () => {
      const target = local(to);
      if (
        await fs.lstat(target).then(
          () => true,
          () => false,
        )
      ) {
        throw Object.assign(new Error('File exists'), { code: 'EEXIST' });
      }
      await fs.rename(local(from), target);
      ok(reqid);
    }),
  );
  sftp.on('REALPATH', (reqid, p) =>
    answer(reqid, async () => {
      const real = toRemote(await fs.realpath(local(p === '' ? '.' : p)));
      sftp.name(reqid, [{ filename: real, longname: real, attrs: {} as Attributes }]);
    }),
  );
  sftp.on('READLINK', (reqid, p) =>
    answer(reqid, async () => {
      const target = await fs.readlink(local(p));
      sftp.name(reqid, [{ filename: target, longname: target, attrs: {} as Attributes }]);
    }),
  );
  // OpenSSH's sftp-server reads SYMLINK's two paths as (target, link), the reverse of the draft,
  // and so do the clients written for it (sftp, sshmux's SftpClient): this server does the same.
  // ssh2 swaps the pair before emitting only for a client announcing OpenSSH, so undo that.
  const openSshClient = (sftp as unknown as { _isOpenSSH?: boolean })._isOpenSSH === true;
  sftp.on('SYMLINK', (reqid, first, second) =>
    answer(reqid, async () => {
      const [target, link] = openSshClient ? [second, first] : [first, second];
      await fs.symlink(target, local(link));
      ok(reqid);
    }),
  );
  // sftp-server exits 0 when its stdin ends, and sshd reports that and closes the channel:
  // clients wait for the close, and scp fails on a missing exit status (ssh's -1).
  sftp.on('end', () => {
    const ch = sftp as unknown as {
      outgoing: { id: number; state: string };
      _protocol: { exitStatus(id: number, status: number): void };
    };
    if (ch.outgoing.state === 'open') ch._protocol.exitStatus(ch.outgoing.id, 0);
    sftp.end();
  });
  // The channel went away: close what the client left open.
  sftp.on('close', () => {
    for (const h of handles.values()) if (h.kind === 'file') h.file.close().catch(() => {});
    handles.clear();
  });
}

/** A wire path as a local one: relative to home; on Windows `/C:/x` (OpenSSH for Windows' form) is `C:\x`. */
export function toLocal(p: string, home: string, platform = process.platform): string {
  if (platform === 'win32') {
    const drive = /^\/([A-Za-z]:)(\/.*)?$/.exec(p);
    if (drive) return path.win32.resolve(`${drive[1]}${drive[2] ?? '/'}`);
    return path.win32.resolve(home, p);
  }
  return path.posix.resolve(home, p);
}

/** A local path as the wire shows it: forward slashes, and on Windows the drive after a slash. */
export function toRemote(p: string, platform = process.platform): string {
  if (platform !== 'win32') return p;
  const slashed = p.replaceAll('\\', '/');
  return /^[A-Za-z]:/.test(slashed) ? `/${slashed}` : slashed;
}

/** SSH2_FXF_* as open(2) flags, bit by bit as sftp-server.c's flags_from_portable(). */
export function openFlags(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & OPEN_MODE.WRITE) !== 0;
  let flags = read && write ? fsc.O_RDWR : write ? fsc.O_WRONLY : fsc.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= fsc.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= fsc.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= fsc.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= fsc.O_EXCL;
  return flags;
}

function toAttrs(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

const STATUS_BY_ERRNO: Record<string, number> = {
  ENOENT: STATUS_CODE.NO_SUCH_FILE,
  ENOTDIR: STATUS_CODE.NO_SUCH_FILE,
  EACCES: STATUS_CODE.PERMISSION_DENIED,
  EPERM: STATUS_CODE.PERMISSION_DENIED,
  EBADF: STATUS_CODE.FAILURE,
};

/** errno as sftp-server.c's errno_to_portable() maps it, with its message. */
function fail(sftp: SFTPWrapper, reqid: number, err: unknown): void {
  const code = (err as { code?: string })?.code ?? '';
  const status = STATUS_BY_ERRNO[code] ?? STATUS_CODE.FAILURE;
  const text =
    status === STATUS_CODE.NO_SUCH_FILE
      ? 'No such file'
      : status === STATUS_CODE.PERMISSION_DENIED
        ? 'Permission denied'
        : 'Failure';
  sftp.status(reqid, status, text);
}
