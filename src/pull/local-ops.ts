import { chmod, lstat, mkdir, rm, symlink, unlink, utimes } from 'node:fs/promises';
import { LocalError } from '../errors.js';
import { displayPath, rawToBytes } from '../manifest/raw-path.js';

/** The local half of a pull: tree operations on raw relative paths under one root. */
export class LocalOps {
  readonly #root: Buffer;

  constructor(root: Buffer) {
    this.#root = root;
  }

  path(rel: string): Buffer {
    return Buffer.concat([this.#root, Buffer.from('/'), rawToBytes(rel)]);
  }

  async #each(items: readonly string[], what: string, fn: (p: Buffer) => Promise<unknown>): Promise<void> {
    for (const rel of items) {
      await fn(this.path(rel)).catch((err: NodeJS.ErrnoException) => {
        throw new LocalError(`cannot ${what} ${displayPath(rel)}: ${err.code ?? err.message}`, {
          cause: err,
        });
      });
    }
  }

  async ensureRoot(): Promise<void> {
    await mkdir(this.#root, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new LocalError(`cannot create ${this.#root.toString()}: ${err.code ?? err.message}`, {
        cause: err,
      });
    });
  }

  remove(paths: readonly string[]): Promise<void> {
    return this.#each(paths, 'remove', (p) => rm(p, { recursive: true, force: true }));
  }

  /** Writable while filled; the mode comes last (`chmod`). */
  mkdirs(paths: readonly string[]): Promise<void> {
    return this.#each(paths, 'create directory', (p) => mkdir(p, { recursive: true, mode: 0o700 }));
  }

  async chmod(items: readonly { path: string; mode: number }[]): Promise<void> {
    for (const { path, mode } of items) await this.#each([path], 'chmod', (p) => chmod(p, mode));
  }

  /** Mode and mtime of files whose content already matches; the access time is left as it is. */
  async setAttributes(items: readonly { path: string; mode: number; mtime: number }[]): Promise<void> {
    for (const { path, mode, mtime } of items) {
      await this.#each([path], 'set attributes of', async (p) => {
        await chmod(p, mode);
        const st = await lstat(p);
        await utimes(p, st.atime, mtime);
      });
    }
  }

  /** Create or replace symbolic links; the target is data, kept byte for byte. */
  async symlinks(items: readonly { path: string; target: string }[]): Promise<void> {
    for (const { path, target } of items) {
      await this.#each([path], 'create the link', async (p) => {
        const there = await lstat(p).catch(() => undefined);
        if (there?.isDirectory()) await rm(p, { recursive: true, force: true });
        else if (there) await unlink(p);
        await symlink(rawToBytes(target), p);
      });
    }
  }
}
