import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import PQueue from 'p-queue';
import { ConfigError, LocalError } from '../errors.js';
import { rawFromBytes } from './raw-path.js';
import { emptyScan, type TreeScan } from './tree-scan.js';

export interface LocalScanOptions {
  /** Hash regular files (streaming SHA-256). @default true */
  hash?: boolean;
  /** Files hashed in parallel. @default 8 */
  concurrency?: number;
  /**
   * The longest the walk runs synchronous file-system calls (directories, metadata, files up
   * to 64 KiB) before it yields to the event loop, in ms. @default 8
   */
  sliceMs?: number;
  signal?: AbortSignal;
}

/** Files up to this size are read in one call: a stream's 1 MiB buffer per small file cost more than hashing it. */
const SMALL_FILE = 1 << 20;

/** Files up to this size are read and hashed synchronously during the walk. */
const SYNC_HASH_MAX = 64 * 1024;

/** The longest the walk holds the event loop before yielding. */
const SLICE_MS = 8;

type ScannedFileBase = { size: number; mtime: number; mode: number };

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
  const sliceMs = options.sliceMs ?? SLICE_MS;
  if (typeof sliceMs !== 'number' || !(sliceMs >= 0)) {
    throw new ConfigError(`Expected \`sliceMs\` to be a number from 0 and up, got \`${String(sliceMs)}\``);
  }
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

  // Directory walking and small files use synchronous calls in slices of at most SLICE_MS,
  // yielding to the event loop between slices: Node's asynchronous fs costs a thread-pool
  // round trip per call, which made a tree of 10,000 small files 10× slower than
  // `sha256sum` (bench/README.md). Larger files stream asynchronously, `concurrency` at once.
  let sliceStart = performance.now();
  const hashLarge = (full: Buffer, relPath: string, base: ScannedFileBase): void => {
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
  };

  const stack: [Buffer, string][] = [[rootBytes, '']];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [dirBytes, rel] = next;
    options.signal?.throwIfAborted();
    let names: Buffer[];
    try {
      names = readdirSync(dirBytes, { encoding: 'buffer' });
    } catch (err) {
      if (rel !== '') scan.errors.set(rel, `directory not readable: ${reasonOf(err)}`);
      else throw new LocalError(`Cannot read ${rootBytes.toString()}: ${reasonOf(err)}`, { cause: err });
      continue;
    }
    for (const name of names) {
      if (performance.now() - sliceStart >= sliceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
        sliceStart = performance.now();
      }
      const full = Buffer.concat([dirBytes, slash, name]);
      const relPath = rel === '' ? rawFromBytes(name) : `${rel}/${rawFromBytes(name)}`;
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(full);
      } catch (err) {
        scan.errors.set(relPath, reasonOf(err));
        continue;
      }
      if (st.isDirectory()) {
        scan.dirs.set(relPath, st.mode & 0o7777);
        stack.push([full, relPath]);
      } else if (st.isSymbolicLink()) {
        try {
          scan.symlinks.set(relPath, rawFromBytes(readlinkSync(full, { encoding: 'buffer' })));
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
        } else if (base.size > SYNC_HASH_MAX) {
          hashLarge(full, relPath, base);
        } else {
          try {
            scan.files.set(relPath, {
              ...base,
              sha256: createHash('sha256').update(readFileSync(full)).digest('hex'),
            });
          } catch (err) {
            scan.errors.set(relPath, reasonOf(err));
          }
        }
      }
    }
  }
  await queue.onIdle();
  options.signal?.throwIfAborted();
  return scan;
}
