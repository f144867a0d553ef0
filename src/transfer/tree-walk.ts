import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { LocalError, RemoteError, SftpStatusError } from '../errors.js';
import { isDirectory, isRegular, isSymlink, type SftpAttrs } from './sftp-attrs.js';
import { type SftpClient, Status } from './sftp-client.js';
import { appendPath } from './sftp-paths.js';
import { printablePath } from './sftp-status.js';
import type { SymlinkPolicy } from './transfer-options.js';

/** One entry of a walked tree; `rel` is relative to the root (empty for the root itself). */
export interface TreeEntry {
  readonly rel: Buffer;
  readonly kind: 'dir' | 'file' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly atime: number | undefined;
  readonly mtime: number | undefined;
  readonly target?: Buffer;
}

export interface WalkedTree {
  /** Pre-order: a directory comes before what is inside it. */
  readonly entries: TreeEntry[];
  /** Sockets, devices, FIFOs, links with `skip`, links that point nowhere with `follow`: not copied. */
  readonly skipped: Buffer[];
}

/** sftp-client.c's MAX_DIR_DEPTH: also what stops a followed link cycle. */
const MAX_DEPTH = 64;
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

const join = (rel: Buffer, name: Buffer) => (rel.length === 0 ? Buffer.from(name) : appendPath(rel, name));

function entryOf(rel: Buffer, a: SftpAttrs, kind: TreeEntry['kind'], target?: Buffer): TreeEntry {
  return {
    rel,
    kind,
    mode: (a.mode ?? 0o644) & 0o7777,
    size: Number(a.size ?? 0n),
    atime: a.atime,
    mtime: a.mtime,
    ...(target && { target }),
  };
}

/** Walk a remote directory over SFTP (entries as lstat sees them; links handled by `links`). */
export async function walkRemote(
  client: SftpClient,
  root: Buffer,
  rootAttrs: SftpAttrs,
  links: SymlinkPolicy,
  signal: AbortSignal,
): Promise<WalkedTree> {
  const entries: TreeEntry[] = [entryOf(Buffer.alloc(0), rootAttrs, 'dir')];
  const skipped: Buffer[] = [];
  const visit = async (rel: Buffer, depth: number): Promise<void> => {
    if (depth >= MAX_DEPTH) {
      throw new RemoteError(
        `${printablePath(appendPath(root, rel))}: more than ${MAX_DEPTH} directory levels`,
      );
    }
    signal.throwIfAborted();
    const dir = rel.length === 0 ? root : appendPath(root, rel);
    const list = (await client.readdir(dir)).filter(
      (e) => !e.filename.equals(DOT) && !e.filename.equals(DOTDOT),
    );
    list.sort((x, y) => Buffer.compare(x.filename, y.filename));
    for (const e of list) {
      const sub = join(rel, e.filename);
      let a = e.attrs;
      if (isSymlink(a)) {
        if (links === 'skip') {
          skipped.push(sub);
          continue;
        }
        const path = appendPath(root, sub);
        if (links === 'preserve') {
          entries.push(entryOf(sub, a, 'symlink', await client.readlink(path)));
          continue;
        }
        const followed = await client.stat(path).catch((err: unknown) => {
          if (err instanceof SftpStatusError && err.status === Status.NoSuchFile) return undefined;
          throw err;
        });
        if (followed === undefined) {
          skipped.push(sub); // a link that points nowhere
          continue;
        }
        a = followed;
      }
      if (isDirectory(a)) {
        entries.push(entryOf(sub, a, 'dir'));
        await visit(sub, depth + 1);
      } else if (isRegular(a)) entries.push(entryOf(sub, a, 'file'));
      else skipped.push(sub);
    }
  };
  await visit(Buffer.alloc(0), 0);
  return { entries, skipped };
}

function localAttrs(st: Awaited<ReturnType<typeof lstat>>): SftpAttrs {
  return {
    mode: Number(st.mode),
    size: BigInt(st.size),
    atime: Math.floor(Number(st.atimeMs) / 1000),
    mtime: Math.floor(Number(st.mtimeMs) / 1000),
  };
}

/** Walk a local directory, the same shape as `walkRemote`. */
export async function walkLocal(
  root: Buffer,
  links: SymlinkPolicy,
  signal: AbortSignal,
): Promise<WalkedTree> {
  const entries: TreeEntry[] = [entryOf(Buffer.alloc(0), localAttrs(await stat(root)), 'dir')];
  const skipped: Buffer[] = [];
  const fail = (what: string, path: Buffer, err: unknown) =>
    new LocalError(`cannot ${what} ${printablePath(path)}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      cause: err,
    });
  const visit = async (rel: Buffer, depth: number): Promise<void> => {
    const dir = rel.length === 0 ? root : appendPath(root, rel);
    if (depth >= MAX_DEPTH)
      throw new LocalError(`${printablePath(dir)}: more than ${MAX_DEPTH} directory levels`);
    signal.throwIfAborted();
    const names = await readdir(dir, { encoding: 'buffer' }).catch((err) => {
      throw fail('read directory', dir, err);
    });
    names.sort(Buffer.compare);
    for (const name of names) {
      const sub = join(rel, name);
      const path = appendPath(root, sub);
      let st = await lstat(path).catch((err) => {
        throw fail('stat', path, err);
      });
      if (st.isSymbolicLink()) {
        if (links === 'skip') {
          skipped.push(sub);
          continue;
        }
        if (links === 'preserve') {
          entries.push(entryOf(sub, localAttrs(st), 'symlink', await readlink(path, { encoding: 'buffer' })));
          continue;
        }
        const followed = await stat(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw fail('follow', path, err);
        });
        if (followed === undefined) {
          skipped.push(sub); // a link that points nowhere
          continue;
        }
        st = followed;
      }
      if (st.isDirectory()) {
        entries.push(entryOf(sub, localAttrs(st), 'dir'));
        await visit(sub, depth + 1);
      } else if (st.isFile()) entries.push(entryOf(sub, localAttrs(st), 'file'));
      else skipped.push(sub);
    }
  };
  await visit(Buffer.alloc(0), 0);
  return { entries, skipped };
}
