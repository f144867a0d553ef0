import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import PQueue from 'p-queue';
import { ConfigError, LocalError } from '../errors.js';
import { rawFromBytes } from './raw-path.js';
import { emptyScan, type TreeScan } from './tree-scan.js';

export interface LocalScanOptions {
  /** Hash regular files (streaming SHA-256). @default true */
  hash?: boolean;
  /** Files hashed in parallel. @default 8 */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Files up to this size are read in one call: a stream's 1 MiB buffer per small file cost more than hashing it. */
const SMALL_FILE = 1 << 20;

/** SHA-256 of a file (or of its first `end` bytes), streamed: memory stays at one read buffer. */
export async function sha256File(
  file: string | Buffer,
  options: { end?: number; signal?: AbortSignal; size?: number } = {},
): Promise<string> {
  const hash = createHash('sha256');
  if (options.end === 0) return hash.digest('hex');
  if (options.end === undefined && options.size !== undefined && options.size <= SMALL_FILE) {
    return hash.update(await readFile(file, options.signal ? { signal: options.signal } : {})).digest('hex');
  }
  const stream = createReadStream(file, {
    ...(options.end !== undefined && { end: options.end - 1 }),
    ...(options.signal && { signal: options.signal }),
    highWaterMark: 1 << 20,
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'Permission denied';
  if (e?.code === 'ENOENT') return 'vanished during the scan';
  return e?.message ?? String(err);
}

/**
 * Scan a local directory: regular files (size, mtime, mode and, with `hash`, SHA-256),
 * symlinks (targets, not followed), directories, and per-path errors. Paths are raw bytes,
 * relative, `/`-separated, so they compare directly with a remote scan.
 */
export async function localScan(root: string | Buffer, options: LocalScanOptions = {}): Promise<TreeScan> {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(
      `Expected \`concurrency\` to be an integer from 1 and up, got \`${concurrency}\` (${typeof concurrency})`,
    );
  }
  const hash = options.hash ?? true;
  const rootBytes = Buffer.isBuffer(root) ? root : Buffer.from(root, 'utf8');
  try {
    const st = await lstat(rootBytes);
    if (!st.isDirectory()) throw new LocalError(`Not a directory: ${rootBytes.toString()}`);
  } catch (err) {
    if (err instanceof LocalError) throw err;
    throw new LocalError(`Cannot scan ${rootBytes.toString()}: ${reasonOf(err)}`, { cause: err });
  }
  const scan = emptyScan();
  const queue = new PQueue({ concurrency });
  const slash = Buffer.from('/');

  const visit = async (dirBytes: Buffer, rel: string): Promise<void> => {
    options.signal?.throwIfAborted();
    let names: Buffer[];
    try {
      names = await readdir(dirBytes, { encoding: 'buffer' });
    } catch (err) {
      if (rel !== '') scan.errors.set(rel, `directory not readable: ${reasonOf(err)}`);
      else throw new LocalError(`Cannot read ${rootBytes.toString()}: ${reasonOf(err)}`, { cause: err });
      return;
    }
    const subdirs: Promise<void>[] = [];
    for (const name of names) {
      const full = Buffer.concat([dirBytes, slash, name]);
      const relPath = rel === '' ? rawFromBytes(name) : `${rel}/${rawFromBytes(name)}`;
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(full);
      } catch (err) {
        scan.errors.set(relPath, reasonOf(err));
        continue;
      }
      if (st.isDirectory()) {
        scan.dirs.set(relPath, st.mode & 0o7777);
        subdirs.push(visit(full, relPath));
      } else if (st.isSymbolicLink()) {
        try {
          scan.symlinks.set(relPath, rawFromBytes(await readlink(full, { encoding: 'buffer' })));
        } catch (err) {
          scan.errors.set(relPath, reasonOf(err));
        }
      } else if (st.isFile()) {
        const base = {
          size: Number(st.size),
          mtime: Math.floor(Number(st.mtimeMs) / 1000),
          mode: st.mode & 0o7777,
        };
        if (!hash) {
          scan.files.set(relPath, base);
          continue;
        }
        void queue.add(async () => {
          try {
            const sha256 = await sha256File(full, {
              size: base.size,
              ...(options.signal && { signal: options.signal }),
            });
            scan.files.set(relPath, { ...base, sha256 });
          } catch (err) {
            // An abort is reported once, after the queue drains.
            if (!options.signal?.aborted) scan.errors.set(relPath, reasonOf(err));
          }
        });
      }
    }
    await Promise.all(subdirs);
  };

  await visit(rootBytes, '');
  await queue.onIdle();
  options.signal?.throwIfAborted();
  return scan;
}
