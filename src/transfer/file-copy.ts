import { type FileHandle, lstat, open, rename, unlink, utimes } from 'node:fs/promises';
import { SftpStatusError } from '../errors.js';
import type { CopyContext } from './copy-context.js';
import { explainNoSpace } from './no-space.js';
import { isRegular, isSymlink, type SftpAttrs } from './sftp-attrs.js';
import { OpenFlag, type SftpClient } from './sftp-client.js';
import { baseName, tempSibling } from './sftp-paths.js';
import { rawPath as p, statusText } from './sftp-status.js';
import { downloadTo, fileSink, readPipelined, uploadFrom } from './sftp-transfer.js';
import { strerror } from './strerror.js';

const why = (err: unknown): string =>
  err instanceof SftpStatusError ? statusText(err.status) : strerror(err);

/**
 * Download one remote file, as sftp_download does, except that the bytes go to a hidden
 * sibling which is renamed over `local` only when complete (and removed on failure).
 */
export async function downloadFile(
  ctx: CopyContext,
  client: SftpClient,
  remote: Buffer,
  local: Buffer,
  known?: SftpAttrs,
): Promise<boolean> {
  let attrs = known;
  if (attrs === undefined) {
    try {
      attrs = await client.stat(remote);
    } catch (err) {
      ctx.error(`stat remote "${p(remote)}": ${why(err)}`);
      return false;
    }
  }
  if (attrs.mode !== undefined && !isRegular(attrs)) {
    ctx.error(`download ${p(remote)}: not a regular file`);
    return false;
  }
  const mode = attrs.mode === undefined ? 0o666 : attrs.mode & 0o777;
  let handle: Buffer;
  try {
    handle = await client.open(remote, OpenFlag.Read);
  } catch (err) {
    ctx.error(`remote open "${p(remote)}": ${why(err)}`);
    return false;
  }
  const existing = await lstat(local).catch(() => undefined);
  if (existing?.isDirectory()) {
    await client.close(handle, remote).catch(() => {});
    ctx.error(`open local "${p(local)}": ${strerror({ code: 'EISDIR' })}`);
    return false;
  }
  // A symlink is written through, as scp's open(2) would; anything else gets the rename.
  const atomic = !existing?.isSymbolicLink();
  const target = atomic ? tempSibling(local) : local;
  let fh: FileHandle;
  try {
    fh = await open(target, atomic ? 'wx' : 'w', mode | 0o200);
  } catch (err) {
    await client.close(handle, remote).catch(() => {});
    ctx.error(`open local "${p(local)}": ${strerror(err)}`);
    return false;
  }
  if (atomic) ctx.localTemporary?.(target, true);
  const meter = ctx.progress?.(baseName(remote), Number(attrs.size ?? 0n));
  let ok = false;
  try {
    let writeFailure: unknown;
    const toFile = fileSink(fh);
    await readPipelined(
      client,
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
      { limiter: ctx.limiter, onProgress: (n) => meter?.update(n) },
    ).catch((err) => {
      if (writeFailure !== undefined) ctx.error(`write local "${p(local)}": ${strerror(writeFailure)}`);
      else ctx.error(`read remote "${p(remote)}" : ${why(err)}`);
      throw err;
    });
    if (ctx.preserve) await fh.chmod(mode);
    else if (atomic && existing) await fh.chmod(existing.mode & 0o7777);
    await fh.close();
    if (ctx.preserve && attrs.atime !== undefined && attrs.mtime !== undefined) {
      await utimes(target, attrs.atime, attrs.mtime).catch((err) => {
        ctx.error(`local set times "${p(local)}": ${strerror(err)}`);
      });
    }
    if (atomic) await rename(target, local);
    ok = true;
  } catch {
    await fh.close().catch(() => {});
  } finally {
    meter?.finish();
    await client.close(handle, remote).catch(() => {});
    if (!ok && atomic) await unlink(target).catch(() => {});
    if (atomic) ctx.localTemporary?.(target, false);
  }
  return ok;
}

/**
 * Upload one local file, as sftp_upload does, into a hidden sibling that posix-rename@openssh.com
 * puts in place when complete. Without that extension (or onto a symlink) the file is written
 * in place, as scp does.
 */
export async function uploadFile(
  ctx: CopyContext,
  client: SftpClient,
  local: Buffer,
  remote: Buffer,
): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(local, 'r');
  } catch (err) {
    ctx.error(`open local "${p(local)}": ${strerror(err)}`);
    return false;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      ctx.error(`local "${p(local)}" is not a regular file`);
      return false;
    }
    const existing = await client.lstat(remote).catch(() => undefined);
    const atomic = client.has('posix-rename@openssh.com') && !(existing && isSymlink(existing));
    const target = atomic ? tempSibling(remote) : remote;
    const flags = OpenFlag.Write | OpenFlag.Creat | OpenFlag.Trunc | (atomic ? OpenFlag.Excl : 0);
    let handle: Buffer;
    try {
      handle = await client.open(target, flags, { mode: st.mode & 0o777 });
    } catch (err) {
      ctx.error(`dest open "${p(remote)}": ${why(err)}`);
      return false;
    }
    const meter = ctx.progress?.(baseName(local), st.size);
    let ok = false;
    try {
      await uploadFrom(client, handle, target, fh, {
        limiter: ctx.limiter,
        onProgress: (n) => meter?.update(n),
      }).catch(async (err) => {
        ctx.error(`write remote "${p(remote)}": ${why(err)}`);
        // scp's line says only "Failure"; the next one says why when the disk is full.
        const full = await explainNoSpace(client, err, { what: p(remote), remote, needed: st.size, show: p });
        if (full) ctx.error(full.message);
        throw err;
      });
      const attrs: SftpAttrs = ctx.preserve
        ? {
            mode: st.mode & 0o777,
            atime: Math.floor(st.atimeMs / 1000),
            mtime: Math.floor(st.mtimeMs / 1000),
          }
        : atomic && existing?.mode !== undefined
          ? { mode: existing.mode & 0o7777 }
          : {};
      if (Object.keys(attrs).length > 0) await client.fsetstat(handle, target, attrs);
      await client.close(handle, target);
      if (atomic) {
        await client.rename(target, remote, true).catch((err) => {
          ctx.error(`dest rename "${p(remote)}": ${why(err)}`);
          throw err;
        });
      }
      ok = true;
    } catch {
      await client.close(handle, target).catch(() => {});
    } finally {
      meter?.finish();
      if (!ok && atomic) await client.remove(target).catch(() => {});
    }
    return ok;
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Copy one file from one server to another through this process (scp -3), renamed into place like uploads. */
export async function crossloadFile(
  ctx: CopyContext,
  from: SftpClient,
  to: SftpClient,
  src: Buffer,
  dst: Buffer,
  known?: SftpAttrs,
): Promise<boolean> {
  let attrs = known;
  try {
    attrs ??= await from.stat(src);
  } catch (err) {
    ctx.error(`stat remote "${p(src)}": ${why(err)}`);
    return false;
  }
  if (attrs.mode !== undefined && !isRegular(attrs)) {
    ctx.error(`download ${p(src)}: not a regular file`);
    return false;
  }
  let inHandle: Buffer;
  try {
    inHandle = await from.open(src, OpenFlag.Read);
  } catch (err) {
    ctx.error(`remote open "${p(src)}": ${why(err)}`);
    return false;
  }
  const existing = await to.lstat(dst).catch(() => undefined);
  const atomic = to.has('posix-rename@openssh.com') && !(existing && isSymlink(existing));
  const target = atomic ? tempSibling(dst) : dst;
  const mode = (attrs.mode ?? 0o644) & 0o777;
  let outHandle: Buffer;
  try {
    const flags = OpenFlag.Write | OpenFlag.Creat | OpenFlag.Trunc | (atomic ? OpenFlag.Excl : 0);
    outHandle = await to.open(target, flags, { mode });
  } catch (err) {
    await from.close(inHandle, src).catch(() => {});
    ctx.error(`dest open "${p(dst)}": ${why(err)}`);
    return false;
  }
  const meter = ctx.progress?.(baseName(src), Number(attrs.size ?? 0n));
  let ok = false;
  try {
    await downloadTo(from, inHandle, src, (data, offset) => to.write(outHandle, target, offset, data), {
      limiter: ctx.limiter,
      onProgress: (n) => meter?.update(n),
    }).catch((err) => {
      ctx.error(`crossload "${p(src)}" to "${p(dst)}": ${why(err)}`);
      throw err;
    });
    const set: SftpAttrs = ctx.preserve
      ? { mode, ...(attrs.mtime !== undefined && { atime: attrs.atime ?? attrs.mtime, mtime: attrs.mtime }) }
      : atomic && existing?.mode !== undefined
        ? { mode: existing.mode & 0o7777 }
        : {};
    if (Object.keys(set).length > 0) await to.fsetstat(outHandle, target, set);
    await to.close(outHandle, target);
    if (atomic) await to.rename(target, dst, true);
    ok = true;
  } catch {
    await to.close(outHandle, target).catch(() => {});
  } finally {
    meter?.finish();
    await from.close(inHandle, src).catch(() => {});
    if (!ok && atomic) await to.remove(target).catch(() => {});
  }
  return ok;
}
