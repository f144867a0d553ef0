import { type FileHandle, lstat, open, rename, unlink, utimes } from 'node:fs/promises';
import { AbortedError, LocalError } from '../errors.js';
import { sha256File } from '../manifest/local-scan.js';
import { isRegular, type SftpAttrs } from './sftp-attrs.js';
import { OpenFlag } from './sftp-client.js';
import { tempSibling } from './sftp-paths.js';
import { printablePath } from './sftp-status.js';
import { fileSink, readPipelined } from './sftp-transfer.js';
import { partialSibling, type XferContext } from './xfer-context.js';

const key = (p: Buffer) => p.toString('latin1');

function localError(what: string, path: Buffer, err: unknown): LocalError {
  const e = err as NodeJS.ErrnoException;
  return new LocalError(
    `${what} ${printablePath(path)}: ${e?.code ?? ''} ${e?.message ?? String(err)}`.trim(),
    {
      cause: err,
    },
  );
}

/** Bytes of the temporary file that are the source's first bytes (0 when none or unknown). */
async function resumableBytes(ctx: XferContext, remote: Buffer, temp: Buffer, size: number): Promise<number> {
  const there = await lstat(temp).catch(() => undefined);
  if (!there?.isFile() || there.size === 0 || there.size > size) return 0;
  const [mine, theirs] = await Promise.all([
    sha256File(temp, { end: there.size, signal: ctx.signal }),
    ctx.remotePrefixHash(remote, there.size),
  ]);
  return mine === theirs ? there.size : 0;
}

/**
 * Download one remote regular file to `local`: the bytes go to a temporary sibling that is
 * renamed over `local` once complete (so `local` is never half-written), with the remote mode
 * and times when preserving. `local` may be a path of any bytes; a directory there is an error.
 * Resolves to the bytes transferred and where this call began (`start` > 0: a leftover was continued).
 */
export async function getFile(
  ctx: XferContext,
  remote: Buffer,
  local: Buffer,
  known?: SftpAttrs,
  temp = ctx.resume ? partialSibling(local) : tempSibling(local),
): Promise<{ bytes: number; start: number }> {
  const attrs = known ?? (await ctx.client.stat(remote));
  if (attrs.mode !== undefined && !isRegular(attrs)) {
    throw new LocalError(`${printablePath(remote)}: not a regular file`);
  }
  const existing = await lstat(local).catch(() => undefined);
  if (existing?.isDirectory()) throw localError('cannot replace the directory', local, { code: 'EISDIR' });
  const size = Number(attrs.size ?? 0n);
  const start = ctx.resume ? await resumableBytes(ctx, remote, temp, size) : 0;
  const mode = (attrs.mode ?? 0o644) & 0o7777;
  let fh: FileHandle;
  try {
    fh = await open(temp, start > 0 ? 'r+' : ctx.resume ? 'w' : 'wx', ctx.preserve ? 0o600 : 0o666);
  } catch (err) {
    throw localError('cannot create', temp, err);
  }
  ctx.localTemps.add(key(temp));
  if (start > 0) ctx.resumed(start);
  let handle: Buffer | undefined;
  let ok = false;
  try {
    handle = await ctx.client.open(remote, OpenFlag.Read);
    let writeFailure: unknown;
    const toFile = fileSink(fh);
    const done = await readPipelined(
      ctx.client,
      handle,
      remote,
      async (pieces, offset) => {
        try {
          await toFile(pieces, offset);
        } catch (err) {
          writeFailure = err;
          throw err;
        }
      },
      { start, ...(ctx.limiter && { limiter: ctx.limiter }), onProgress: progressDelta(ctx) },
    ).catch((err) => {
      throw writeFailure !== undefined ? localError('cannot write', temp, writeFailure) : err;
    });
    ctx.signal.throwIfAborted();
    // The end is where the server said end of file, whatever the size was when stat'ed.
    await fh.truncate(start + done);
    if (ctx.preserve) await fh.chmod(mode);
    await fh.close();
    if (ctx.preserve && attrs.mtime !== undefined) {
      await utimes(temp, attrs.atime ?? attrs.mtime, attrs.mtime);
    }
    await rename(temp, local).catch((err) => {
      throw localError('cannot rename into', local, err);
    });
    ctx.localTemps.delete(key(temp));
    ok = true;
    return { bytes: done, start };
  } catch (err) {
    if (ctx.signal.aborted) throw new AbortedError('Download aborted', { cause: ctx.signal.reason });
    throw err;
  } finally {
    if (!ok) {
      await fh.close().catch(() => {});
      if (!ctx.resume) {
        await unlink(temp).catch(() => {});
        ctx.localTemps.delete(key(temp));
      }
    }
    if (handle && !ctx.signal.aborted) await ctx.client.close(handle, remote).catch(() => {});
  }
}

/** onProgress of the SFTP loop reports a running total; the context wants increments. */
export function progressDelta(ctx: XferContext): (total: number) => void {
  let last = 0;
  return (total) => {
    ctx.bytes(total - last);
    last = total;
  };
}
