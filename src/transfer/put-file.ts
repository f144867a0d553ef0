import { type FileHandle, open } from 'node:fs/promises';
import { AbortedError, LocalError, SftpStatusError } from '../errors.js';
import { sha256File } from '../manifest/local-scan.js';
import { progressDelta } from './get-file.js';
import { explainNoSpace } from './no-space.js';
import { isDirectory, isRegular, type SftpAttrs } from './sftp-attrs.js';
import { OpenFlag, Status } from './sftp-client.js';
import { tempSibling } from './sftp-paths.js';
import { printablePath } from './sftp-status.js';
import { uploadFrom } from './sftp-transfer.js';
import { partialSibling, type XferContext } from './xfer-context.js';

const key = (p: Buffer) => p.toString('latin1');

async function resumableBytes(ctx: XferContext, local: Buffer, temp: Buffer, size: number): Promise<number> {
  const there = await ctx.client.lstat(temp).catch(() => undefined);
  const have = Number(there?.size ?? 0n);
  if (there === undefined || !isRegular(there) || have === 0 || have > size) return 0;
  const [mine, theirs] = await Promise.all([
    sha256File(local, { end: have, signal: ctx.signal }),
    ctx.remotePrefixHash(temp, have),
  ]);
  return mine === theirs ? have : 0;
}

/** A status error about the temporary sibling names the file the caller asked for instead. */
function namingFinal(err: unknown, temp: Buffer, remote: Buffer): unknown {
  const shown = printablePath(temp);
  if (!(err instanceof SftpStatusError) || !err.message.startsWith(`${shown}: `)) return err;
  return new SftpStatusError(`${printablePath(remote)}${err.message.slice(shown.length)}`, err.status, {
    cause: err,
  });
}

/**
 * Upload one local regular file to `remote`: the bytes go to a temporary sibling that
 * posix-rename@openssh.com puts over `remote` once complete (without that extension the old
 * file is removed first, then the rename), with the local mode and times when preserving.
 * Resolves to the bytes transferred (a resumed prefix excluded).
 */
export async function putFile(
  ctx: XferContext,
  local: Buffer,
  remote: Buffer,
  temp = ctx.resume ? partialSibling(remote) : tempSibling(remote),
): Promise<number> {
  let fh: FileHandle;
  try {
    fh = await open(local, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LocalError(`cannot open ${printablePath(local)}: ${e.code ?? e.message}`, { cause: err });
  }
  const client = ctx.client;
  let handle: Buffer | undefined;
  let ok = false;
  let needed = 0;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new LocalError(`${printablePath(local)}: not a regular file`);
    const existing = await client.lstat(remote).catch(() => undefined);
    if (existing && isDirectory(existing)) {
      throw new SftpStatusError(`${printablePath(remote)}: is a directory`, Status.Failure);
    }
    const start = ctx.resume ? await resumableBytes(ctx, local, temp, st.size) : 0;
    needed = st.size - start;
    const flags =
      OpenFlag.Write | OpenFlag.Creat | (start > 0 ? 0 : OpenFlag.Trunc) | (ctx.resume ? 0 : OpenFlag.Excl);
    handle = await client.open(temp, flags, { mode: ctx.preserve ? 0o600 : 0o666 });
    ctx.remoteTemps.add(key(temp));
    if (start > 0) ctx.resumed(start);
    const end = await uploadFrom(client, handle, temp, fh, {
      start,
      ...(ctx.limiter && { limiter: ctx.limiter }),
      onProgress: progressDelta(ctx),
    });
    ctx.signal.throwIfAborted();
    // A longer leftover (the local file shrank) loses its tail.
    const attrs: SftpAttrs = { size: BigInt(end) };
    if (ctx.preserve) {
      attrs.mode = st.mode & 0o7777;
      attrs.atime = Math.floor(st.atimeMs / 1000);
      attrs.mtime = Math.floor(st.mtimeMs / 1000);
    }
    await client.fsetstat(handle, temp, attrs);
    const h = handle;
    handle = undefined;
    await client.close(h, temp);
    if (!client.has('posix-rename@openssh.com') && existing) await client.remove(remote);
    await client.rename(temp, remote, true);
    ctx.remoteTemps.delete(key(temp));
    ok = true;
    return end - start;
  } catch (err) {
    if (ctx.signal.aborted) throw new AbortedError('Upload aborted', { cause: ctx.signal.reason });
    // Measured before the temporary is removed: the room there was when the write failed.
    const full = await explainNoSpace(client, err, {
      what: `upload ${printablePath(remote)}`,
      remote,
      needed,
    });
    throw full ?? namingFinal(err, temp, remote);
  } finally {
    await fh.close().catch(() => {});
    if (!ctx.signal.aborted) {
      if (handle) await client.close(handle, temp).catch(() => {});
      if (!ok && !ctx.resume && ctx.remoteTemps.has(key(temp))) {
        await client.remove(temp).catch(() => {});
        ctx.remoteTemps.delete(key(temp));
      }
    }
  }
}
