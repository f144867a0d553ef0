import { chmod, lstat, mkdir, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { ConfigError, LocalError, SftpStatusError } from '../errors.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { getFile } from './get-file.js';
import { putFile } from './put-file.js';
import { isDirectory, isSymlink } from './sftp-attrs.js';
import { type SftpPath, Status } from './sftp-client.js';
import { appendPath, baseName } from './sftp-paths.js';
import { printablePath } from './sftp-status.js';
import { normalizeTransferOptions, type TransferOptions } from './transfer-options.js';
import { type TreeEntry, type WalkedTree, walkLocal, walkRemote } from './tree-walk.js';
import { XferSession } from './xfer-session.js';

/** What an `upload` or `download` did. */
export interface TransferResult {
  /** Regular files written (resumed ones included). */
  readonly files: number;
  /** Directories created (the top one included). */
  readonly directories: number;
  /** Symbolic links recreated (`symlinks: 'preserve'`). */
  readonly symlinks: number;
  /** Bytes that crossed the network in this call. */
  readonly bytesTransferred: number;
  /** Bytes of leftover temporary files that were continued instead of sent again (`resume`). */
  readonly bytesResumed: number;
  /** Files that continued a leftover temporary file. */
  readonly filesResumed: number;
  /** Relative paths (bytes) of entries not copied: sockets, devices, FIFOs, links with `symlinks: 'skip'`. */
  readonly skipped: Buffer[];
}

const bytesOf = (name: string, p: SftpPath): Buffer => {
  if (Buffer.isBuffer(p)) return p;
  if (typeof p === 'string' && p !== '') return Buffer.from(p, 'utf8');
  throw new ConfigError(`Expected \`${name}\` to be a non-empty string or a Buffer, got \`${String(p)}\``);
};
const under = (root: Buffer, rel: Buffer) => (rel.length === 0 ? root : appendPath(root, rel));

/** Copy the files of a walked tree with `concurrency` in flight; the first failure stops the others. */
async function copyFiles(
  s: XferSession,
  files: TreeEntry[],
  concurrency: number,
  one: (f: TreeEntry) => Promise<unknown>,
): Promise<void> {
  const queue = [...files];
  let failure: unknown;
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined && failure === undefined; f = queue.shift()) {
      try {
        await one(f);
        s.counters.filesDone++;
        s.report(f.rel);
      } catch (err) {
        failure ??= err;
        s.fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, queue.length)) }, worker));
  if (failure !== undefined) throw failure;
}

function plan(s: XferSession, tree: WalkedTree) {
  const files = tree.entries.filter((e) => e.kind === 'file');
  s.counters.filesTotal = files.length;
  s.counters.bytesTotal = files.reduce((n, f) => n + f.size, 0);
  return {
    files,
    dirs: tree.entries.filter((e) => e.kind === 'dir'),
    links: tree.entries.filter((e) => e.kind === 'symlink'),
  };
}

function resultOf(
  s: XferSession,
  files: number,
  dirs: number,
  links: number,
  skipped: Buffer[],
): TransferResult {
  const c = s.counters;
  return {
    files,
    directories: dirs,
    symlinks: links,
    bytesTransferred: c.bytesTransferred,
    bytesResumed: c.bytesResumed,
    filesResumed: c.filesResumed,
    skipped,
  };
}

async function run<T>(s: XferSession, body: () => Promise<T>): Promise<T> {
  try {
    const r = await body();
    await s.finish();
    return r;
  } catch (err) {
    await s.finish(err);
    throw s.errorOf(err);
  }
}

/**
 * Download a remote file or directory tree to `localPath` (the name the copy gets; a tree is
 * merged into an existing directory) over one pooled SFTP session: pipelined READs, each file
 * written to a temporary sibling and renamed into place when complete, modes and times kept
 * (`preserve`), leftovers continued (`resume`), names of any bytes (pass Buffers).
 */
export async function download(
  runner: RemoteRunner,
  dest: Destination,
  remotePath: SftpPath,
  localPath: SftpPath,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const opts = normalizeTransferOptions(options);
  const remote = bytesOf('remotePath', remotePath);
  const local = bytesOf('localPath', localPath);
  const s = await XferSession.open(runner, dest, opts);
  const client = s.ctx.client;
  return run(s, async () => {
    const top = await client.stat(remote);
    if (!isDirectory(top)) {
      s.counters.filesTotal = 1;
      s.counters.bytesTotal = Number(top.size ?? 0n);
      await getFile(s.ctx, remote, local, top);
      s.counters.filesDone = 1;
      s.report(baseName(remote));
      return resultOf(s, 1, 0, 0, []);
    }
    const tree = await walkRemote(client, remote, top, opts.symlinks, s.ctx.signal);
    const { files, dirs, links } = plan(s, tree);
    // Directories stay writable while filled; their own modes and times are set last.
    for (const d of dirs) {
      const path = under(local, d.rel);
      await mkdir(path, { mode: opts.preserve ? 0o700 : 0o777 }).catch(async (err) => {
        const there = await lstat(path).catch(() => undefined);
        if (err.code !== 'EEXIST' || !there?.isDirectory()) {
          throw new LocalError(`cannot create directory ${printablePath(path)}: ${err.code}`, { cause: err });
        }
      });
    }
    await copyFiles(s, files, opts.concurrency, (f) =>
      getFile(s.ctx, under(remote, f.rel), under(local, f.rel), {
        size: BigInt(f.size),
        mode: 0o100000 | f.mode,
        ...(f.mtime !== undefined && { atime: f.atime ?? f.mtime, mtime: f.mtime }),
      }),
    );
    for (const l of links) {
      const path = under(local, l.rel);
      const there = await lstat(path).catch(() => undefined);
      if (there?.isDirectory())
        throw new LocalError(`cannot replace the directory ${printablePath(path)} by a link`);
      if (there) await unlink(path);
      await symlink(l.target!, path);
    }
    for (const d of opts.preserve ? [...dirs].reverse() : []) {
      const path = under(local, d.rel);
      await chmod(path, d.mode);
      if (d.mtime !== undefined) await utimes(path, d.atime ?? d.mtime, d.mtime);
    }
    return resultOf(s, files.length, dirs.length, links.length, tree.skipped);
  });
}

/**
 * Upload a local file or directory tree to `remotePath` over one pooled SFTP session, the mirror
 * of `download`: pipelined WRITEs, temporary sibling renamed into place (posix-rename@openssh.com),
 * modes and times kept, leftovers continued with `resume`, names of any bytes.
 */
export async function upload(
  runner: RemoteRunner,
  dest: Destination,
  localPath: SftpPath,
  remotePath: SftpPath,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const opts = normalizeTransferOptions(options);
  const local = bytesOf('localPath', localPath);
  const remote = bytesOf('remotePath', remotePath);
  // A link named as the source is followed, as cp and scp do.
  const top = await stat(local).catch((err) => {
    throw new LocalError(`cannot stat ${printablePath(local)}: ${err.code ?? err}`, { cause: err });
  });
  const s = await XferSession.open(runner, dest, opts);
  const client = s.ctx.client;
  return run(s, async () => {
    if (!top.isDirectory()) {
      s.counters.filesTotal = 1;
      s.counters.bytesTotal = top.size;
      await putFile(s.ctx, local, remote);
      s.counters.filesDone = 1;
      s.report(baseName(local));
      return resultOf(s, 1, 0, 0, []);
    }
    const tree = await walkLocal(local, opts.symlinks, s.ctx.signal);
    const { files, dirs, links } = plan(s, tree);
    for (const d of dirs) {
      const path = under(remote, d.rel);
      await client.mkdir(path, { mode: opts.preserve ? 0o700 : 0o777 }).catch(async (err) => {
        const there = await client.stat(path).catch(() => undefined);
        if (there === undefined || !isDirectory(there)) throw err;
      });
    }
    await copyFiles(s, files, opts.concurrency, (f) =>
      putFile(s.ctx, under(local, f.rel), under(remote, f.rel)),
    );
    for (const l of links) {
      const path = under(remote, l.rel);
      const there = await client.lstat(path).catch(() => undefined);
      if (there && isDirectory(there) && !isSymlink(there)) {
        throw new SftpStatusError(
          `${printablePath(path)}: cannot replace a directory by a link`,
          Status.Failure,
        );
      }
      if (there) await client.remove(path);
      await client.symlink(l.target!, path);
    }
    for (const d of opts.preserve ? [...dirs].reverse() : []) {
      await client.setstat(under(remote, d.rel), {
        mode: d.mode,
        ...(d.mtime !== undefined && { atime: d.atime ?? d.mtime, mtime: d.mtime }),
      });
    }
    return resultOf(s, files.length, dirs.length, links.length, tree.skipped);
  });
}
