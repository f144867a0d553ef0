import { chmod, lstat, mkdir, readdir, stat, utimes } from 'node:fs/promises';
import { SftpStatusError } from '../errors.js';
import type { CopyContext } from './copy-context.js';
import { crossloadFile, downloadFile, uploadFile } from './file-copy.js';
import { isDirectory, isRegular, isSymlink, type SftpAttrs } from './sftp-attrs.js';
import type { SftpClient } from './sftp-client.js';
import { appendPath } from './sftp-paths.js';
import { rawPath as p, statusText } from './sftp-status.js';
import { strerror } from './strerror.js';

/** sftp-client.c's MAX_DIR_DEPTH. */
const MAX_DEPTH = 64;
const isDots = (name: Buffer): boolean => name.equals(Buffer.from('.')) || name.equals(Buffer.from('..'));
const why = (err: unknown): string =>
  err instanceof SftpStatusError ? statusText(err.status) : strerror(err);

/**
 * scp -r from the server (sftp_download_dir): directories made writable while filled, symbolic
 * links followed (a link to a directory is copied as a directory), other file types skipped.
 */
export async function downloadDir(
  ctx: CopyContext,
  client: SftpClient,
  src: Buffer,
  dst: Buffer,
  known?: SftpAttrs,
  depth = 0,
): Promise<boolean> {
  if (depth >= MAX_DEPTH) {
    ctx.error(`Maximum directory depth exceeded: ${depth} levels`);
    return false;
  }
  let attrs = known;
  if (attrs === undefined) {
    try {
      attrs = await client.stat(src);
    } catch {
      ctx.error(`stat remote "${p(src)}" directory failed`);
      return false;
    }
  }
  if (!isDirectory(attrs)) {
    ctx.error(`"${p(src)}" is not a directory`);
    return false;
  }
  ctx.announce?.(
    `Retrieving ${p(src.length > 1 && src[src.length - 1] === 0x2f ? src.subarray(0, -1) : src)}`,
  );
  const mode = attrs.mode === undefined ? 0o777 : attrs.mode & 0o1777;
  const fillMode = mode | 0o300;
  try {
    await mkdir(dst, { mode: fillMode });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') {
      ctx.error(`mkdir ${p(dst)}: ${strerror(err)}`);
      return false;
    }
  }
  let entries: Awaited<ReturnType<SftpClient['readdir']>>;
  try {
    entries = await client.readdir(src);
  } catch {
    ctx.error(`remote readdir "${p(src)}" failed`);
    return false;
  }
  let ok = true;
  for (const entry of entries) {
    const from = appendPath(src, entry.filename);
    const to = appendPath(dst, entry.filename);
    let a = entry.attrs;
    if (isSymlink(a) && ctx.followLinks === false) {
      ctx.log(`download "${p(from)}": not a regular file`);
      continue;
    }
    if (isSymlink(a)) {
      try {
        a = await client.stat(from);
      } catch {
        ctx.log(`remote stat "${p(from)}" failed`);
        ok = false;
        continue;
      }
    }
    if (isDirectory(a)) {
      if (isDots(entry.filename)) continue;
      if (!(await downloadDir(ctx, client, from, to, a, depth + 1))) ok = false;
    } else if (isRegular(a)) {
      if (!(await downloadFile(ctx, client, from, to, a))) {
        ctx.error(`Download of file ${p(from)} to ${p(to)} failed`);
        ok = false;
      }
    } else {
      ctx.log(`download "${p(from)}": not a regular file`);
    }
  }
  if (ctx.preserve && attrs.atime !== undefined && attrs.mtime !== undefined) {
    await utimes(dst, attrs.atime, attrs.mtime).catch((err) =>
      ctx.error(`local set times on "${p(dst)}": ${strerror(err)}`),
    );
  }
  if (mode !== fillMode) {
    await chmod(dst, mode).catch((err) => ctx.error(`local chmod directory "${p(dst)}": ${strerror(err)}`));
  }
  return ok;
}

/** scp -r to the server (sftp_upload_dir), with the same treatment of links and other types. */
export async function uploadDir(
  ctx: CopyContext,
  client: SftpClient,
  src: Buffer,
  dst: Buffer,
  depth = 0,
): Promise<boolean> {
  if (depth >= MAX_DEPTH) {
    ctx.error(`Maximum directory depth exceeded: ${depth} levels`);
    return false;
  }
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(src);
  } catch (err) {
    ctx.error(`stat local "${p(src)}": ${strerror(err)}`);
    return false;
  }
  if (!st.isDirectory()) {
    ctx.error(`"${p(src)}" is not a directory`);
    return false;
  }
  ctx.announce?.(`Entering ${p(src)}`);
  const mode = st.mode & 0o1777;
  const times = ctx.preserve
    ? { atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) }
    : {};
  let created = false;
  try {
    await client.mkdir(dst, { mode: mode | 0o300, ...times });
    created = true;
  } catch {
    const there = await client.stat(dst).catch(() => undefined);
    if (there === undefined) {
      ctx.error(`remote mkdir "${p(dst)}": Failure`);
      return false;
    }
    if (!isDirectory(there)) {
      ctx.error(`"${p(dst)}" exists but is not a directory`);
      return false;
    }
  }
  let names: Buffer[];
  try {
    names = await readdir(src, { encoding: 'buffer' });
  } catch (err) {
    ctx.error(`local opendir "${p(src)}": ${strerror(err)}`);
    return false;
  }
  let ok = true;
  for (const name of names) {
    const from = appendPath(src, name);
    const to = appendPath(dst, name);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(from);
      if (info.isSymbolicLink() && ctx.followLinks === false) {
        ctx.log(`${p(name)}: not a regular file`);
        continue;
      }
      if (info.isSymbolicLink()) info = await stat(from);
    } catch (err) {
      ctx.log(`local stat "${p(name)}": ${strerror(err)}`);
      ok = false;
      continue;
    }
    if (info.isDirectory()) {
      if (!(await uploadDir(ctx, client, from, to, depth + 1))) ok = false;
    } else if (info.isFile()) {
      if (!(await uploadFile(ctx, client, from, to))) {
        ctx.error(`upload "${p(from)}" to "${p(to)}" failed`);
        ok = false;
      }
    } else {
      ctx.log(`${p(name)}: not a regular file`);
    }
  }
  if (created || ctx.preserve) {
    await client
      .setstat(dst, { mode, ...times })
      .catch((err) => ctx.error(`remote setstat "${p(dst)}": ${why(err)}`));
  }
  return ok;
}

/** scp -r -3: a directory tree from one server to another (sftp_crossload_dir). */
export async function crossloadDir(
  ctx: CopyContext,
  from: SftpClient,
  to: SftpClient,
  src: Buffer,
  dst: Buffer,
  known?: SftpAttrs,
  depth = 0,
): Promise<boolean> {
  if (depth >= MAX_DEPTH) {
    ctx.error(`Maximum directory depth exceeded: ${depth} levels`);
    return false;
  }
  let attrs = known;
  try {
    attrs ??= await from.stat(src);
  } catch {
    ctx.error(`stat remote "${p(src)}" failed`);
    return false;
  }
  if (!isDirectory(attrs)) {
    ctx.error(`"${p(src)}" is not a directory`);
    return false;
  }
  const mode = (attrs.mode ?? 0o777) & 0o1777;
  const times =
    ctx.preserve && attrs.mtime !== undefined
      ? { atime: attrs.atime ?? attrs.mtime, mtime: attrs.mtime }
      : {};
  const made = await to.mkdir(dst, { mode: mode | 0o300 }).then(
    () => true,
    () => false,
  );
  if (!made) {
    const there = await to.stat(dst).catch(() => undefined);
    if (there === undefined || !isDirectory(there)) {
      ctx.error(`"${p(dst)}" exists but is not a directory`);
      return false;
    }
  }
  let entries: Awaited<ReturnType<SftpClient['readdir']>>;
  try {
    entries = await from.readdir(src);
  } catch {
    ctx.error(`remote readdir "${p(src)}" failed`);
    return false;
  }
  let ok = true;
  for (const entry of entries) {
    const a2 = appendPath(src, entry.filename);
    const b2 = appendPath(dst, entry.filename);
    let a = entry.attrs;
    if (isSymlink(a)) {
      const followed = await from.stat(a2).catch(() => undefined);
      if (followed === undefined) {
        ctx.log(`remote stat "${p(a2)}" failed`);
        ok = false;
        continue;
      }
      a = followed;
    }
    if (isDirectory(a)) {
      if (isDots(entry.filename)) continue;
      if (!(await crossloadDir(ctx, from, to, a2, b2, a, depth + 1))) ok = false;
    } else if (isRegular(a)) {
      if (!(await crossloadFile(ctx, from, to, a2, b2, a))) {
        ctx.error(`Transfer of file ${p(a2)} to ${p(b2)} failed`);
        ok = false;
      }
    } else {
      ctx.log(`crossload "${p(a2)}": not a regular file`);
    }
  }
  if (made || ctx.preserve) {
    await to
      .setstat(dst, { mode, ...times })
      .catch((err) => ctx.error(`remote setstat "${p(dst)}": ${why(err)}`));
  }
  return ok;
}
