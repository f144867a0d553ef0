import { mkdir, stat } from 'node:fs/promises';
import { LocalError } from '../errors.js';
import type { CopyContext } from './copy-context.js';
import { crossloadFile, downloadFile, uploadFile } from './file-copy.js';
import { remoteGlob } from './remote-glob.js';
import { isDirectory } from './sftp-attrs.js';
import type { SftpClient } from './sftp-client.js';
import { appendPath, baseName, prepareRemotePath, remoteIsDir } from './sftp-paths.js';
import { rawPath as p } from './sftp-status.js';
import { strerror } from './strerror.js';
import { crossloadDir, downloadDir, uploadDir } from './tree-copy.js';

const DOTDOT = Buffer.from('..');

/** The code of the errors after which scp stops at once (its fatal()): exit 255. */
export const SCP_FATAL = 'SSHMUX_ERR_SCP_FATAL';

/**
 * The three directions of scp's SFTP mode (scp.c source_sftp, sink_sftp, throughlocal_sftp),
 * one source operand at a time. Each returns false when any file failed (scp then exits 1);
 * the messages went to `ctx.error`/`ctx.log` as they happened.
 */
export class ScpCopy {
  constructor(
    readonly ctx: CopyContext,
    /** More than one source (or scp -d): the target must be a directory. */
    readonly targetShouldBeDirectory: boolean,
  ) {}

  /** A local file or tree to the server. */
  async upload(client: SftpClient, src: Buffer, targetOperand: Buffer): Promise<boolean> {
    const { ctx } = this;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(src);
    } catch (err) {
      // scp.c fatal()s here: nothing after this source is copied either.
      throw new LocalError(`stat local "${p(src)}": ${strerror(err)}`, { code: SCP_FATAL, cause: err });
    }
    let filename = baseName(src);
    if (filename.equals(DOTDOT)) filename = Buffer.from('.');
    const target = await prepareRemotePath(client, targetOperand, ctx.error);
    if (target === undefined) return false;
    let targetIsDir = await remoteIsDir(client, target);
    if (this.targetShouldBeDirectory && !targetIsDir) {
      try {
        await client.mkdir(target, { mode: (st.mode & 0o7777) | 0o700 });
      } catch (err) {
        ctx.error(`remote mkdir "${p(target)}": ${(err as Error).message.replace(/^.*: /, '')}`);
        return false;
      }
      targetIsDir = true;
    }
    const dst = targetIsDir ? appendPath(target, filename) : target;
    if (st.isDirectory() && ctx.recursive) {
      if (await uploadDir(ctx, client, src, dst)) return true;
      ctx.error(`failed to upload directory ${p(src)} to ${p(targetOperand)}`);
      return false;
    }
    if (await uploadFile(ctx, client, src, dst)) return true;
    ctx.error(`failed to upload file ${p(src)} to ${p(targetOperand)}`);
    return false;
  }

  /** Remote files (globbed on the server) to a local file or directory. */
  async download(client: SftpClient, srcOperand: Buffer, dst: Buffer): Promise<boolean> {
    const { ctx } = this;
    const matches = await this.#glob(client, srcOperand);
    if (matches === undefined) return false;
    const there = await stat(dst).catch(() => undefined);
    let dstIsDir = there?.isDirectory() === true;
    if (matches.length > 1 && !dstIsDir) {
      if (there !== undefined) {
        ctx.error(`Multiple files match pattern, but destination "${p(dst)}" is not a directory`);
        return false;
      }
      try {
        await mkdir(dst, 0o777);
      } catch (err) {
        ctx.error(`local mkdir "${p(dst)}": ${strerror(err)}`);
        return false;
      }
      dstIsDir = true;
    }
    let ok = true;
    for (const path of matches) {
      let filename = baseName(path);
      if (filename.equals(DOTDOT)) filename = Buffer.from('.');
      const to = dstIsDir ? appendPath(dst, filename) : dst;
      const attrs = await client.stat(path).catch(() => undefined);
      const done =
        attrs !== undefined && isDirectory(attrs) && ctx.recursive
          ? await downloadDir(ctx, client, path, to, attrs)
          : await downloadFile(ctx, client, path, to, attrs);
      if (!done) ok = false;
    }
    return ok;
  }

  /** Remote to remote through this machine (-3, and scp 9.2's default in SFTP mode). */
  async crossload(
    from: SftpClient,
    to: SftpClient,
    srcOperand: Buffer,
    targetOperand: Buffer,
  ): Promise<boolean> {
    const { ctx } = this;
    const target = await prepareRemotePath(to, targetOperand, ctx.error);
    if (target === undefined) return false;
    const targetIsDir = await remoteIsDir(to, target);
    if (!targetIsDir && this.targetShouldBeDirectory) {
      ctx.error(`${p(targetOperand)}: destination is not a directory`);
      return false;
    }
    const matches = await this.#glob(from, srcOperand);
    if (matches === undefined) return false;
    let ok = true;
    for (const path of matches) {
      let filename = baseName(path);
      if (filename.equals(DOTDOT)) filename = Buffer.from('.');
      const dst = targetIsDir ? appendPath(target, filename) : target;
      const attrs = await from.stat(path).catch(() => undefined);
      const done =
        attrs !== undefined && isDirectory(attrs) && ctx.recursive
          ? await crossloadDir(ctx, from, to, path, dst, attrs)
          : await crossloadFile(ctx, from, to, path, dst, attrs);
      if (!done) ok = false;
    }
    return ok;
  }

  #homes = new WeakMap<SftpClient, Promise<Buffer>>();

  #home(client: SftpClient): Promise<Buffer> {
    let home = this.#homes.get(client);
    if (home === undefined) {
      home = client.realpath('.');
      this.#homes.set(client, home);
    }
    return home;
  }

  /** prepare_remote_path, then sftp_glob with GLOB_NOCHECK; a pattern matching nothing that does not exist fails early. */
  async #glob(client: SftpClient, operand: Buffer): Promise<Buffer[] | undefined> {
    const prepared = await prepareRemotePath(client, operand, this.ctx.error);
    if (prepared === undefined) return undefined;
    // scp 9.2 globs (and names in its messages) the absolute path: relative ones start at the login directory.
    const src = prepared[0] === 0x2f ? prepared : appendPath(await this.#home(client), prepared);
    const { paths, matched } = await remoteGlob(client, src);
    if (!matched && (await client.stat(paths[0]!).catch(() => undefined)) === undefined) {
      this.ctx.error(`${p(operand)}: No such file or directory`);
      return undefined;
    }
    return paths;
  }
}
