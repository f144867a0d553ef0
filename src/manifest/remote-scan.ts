import { RemoteError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { shellCommand } from '../quote.js';
import { NulSplitter } from './nul-splitter.js';
import { safeRemoteDir, shellAssign } from './raw-path.js';
import { emptyScan, type TreeScan } from './tree-scan.js';

export interface RemoteScanOptions {
  /** Hash every regular file with `sha256sum`. @default true */
  hash?: boolean;
  signal?: AbortSignal;
  logger?: Logger;
}

const EXIT_NO_DIR = 3;
const HASH_RECORD = /^([0-9a-f]{64}) [ *]\.\/([\s\S]*)$/;
const FILE_RECORD = /^F(\d+) (\d+)(?:\.\d*)? ([0-7]+) ([\s\S]+)$/;
const DIR_RECORD = /^D([0-7]+) ([\s\S]+)$/;
/** Longest record accepted: far above PATH_MAX-sized names, far below what a hostile remote could send. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * The remote script: `cd` into the root (given as printf octal data, so the command is
 * ASCII whatever the name), then one `find` that prints NUL-terminated records and hands
 * regular files to `sha256sum -z` in batches. GNU find flushes its own output and waits
 * for each batch, so records never interleave mid-field. Record kinds:
 * `F<size> <mtime> <mode> <path>`, `L<path>` + `<target>`, `D<mode> <path>`,
 * `X<path>` (unreadable directory, pruned) and sha256sum's `<hex>  ./<path>`.
 */
export function remoteScanCommand(rawRoot: string, hash: boolean): string {
  const find = [
    'LC_ALL=C exec find . -mindepth 1',
    `\\( -type d \\( ! -readable -o ! -executable \\) -printf 'X%P\\0' -prune \\)`,
    `-o \\( -type d -printf 'D%m %P\\0' \\)`,
    `-o \\( -type l -printf 'L%P\\0%l\\0' \\)`,
    `-o \\( -type f -printf 'F%s %T@ %m %P\\0'${hash ? ' -exec sha256sum -z -- {} +' : ''} \\)`,
  ].join(' ');
  const script = `${shellAssign('r', safeRemoteDir(rawRoot))} && cd -- "$r" || exit ${EXIT_NO_DIR}\n${find}`;
  return shellCommand(['sh', '-c', script, 'sshmux-scan']);
}

/** Parses the record stream of `remoteScanCommand`, chunk by chunk. */
export class RemoteScanParser {
  readonly #splitter = new NulSplitter();
  readonly #scan = emptyScan();
  readonly #hashes = new Map<string, string>();
  #linkPath: string | undefined;

  push(chunk: Buffer): void {
    for (const field of this.#splitter.push(chunk)) this.#field(field);
    if (this.#splitter.pendingBytes > MAX_RECORD_BYTES) {
      throw new RemoteError(
        `Remote scan output holds a record longer than ${MAX_RECORD_BYTES} bytes: not the scan script's output`,
        { code: 'SSHMUX_ERR_MANIFEST_RECORD' },
      );
    }
  }

  #field(field: string): void {
    if (this.#linkPath !== undefined) {
      this.#scan.symlinks.set(this.#linkPath, field);
      this.#linkPath = undefined;
      return;
    }
    const kind = field[0];
    const file = kind === 'F' ? FILE_RECORD.exec(field) : null;
    const dir = kind === 'D' ? DIR_RECORD.exec(field) : null;
    const hashed = file || dir ? null : HASH_RECORD.exec(field);
    if (file) {
      this.#scan.files.set(file[4]!, {
        size: Number(file[1]),
        mtime: Number(file[2]),
        mode: Number.parseInt(file[3]!, 8),
      });
    } else if (dir) {
      this.#scan.dirs.set(dir[2]!, Number.parseInt(dir[1]!, 8));
    } else if (kind === 'L' && field.length > 1) {
      this.#linkPath = field.slice(1);
    } else if (kind === 'X' && field.length > 1) {
      this.#scan.errors.set(field.slice(1), 'directory not readable: its contents are unknown');
    } else if (hashed) {
      this.#hashes.set(hashed[2]!, hashed[1]!);
    } else {
      throw new RemoteError(`Unexpected record in remote scan output: ${JSON.stringify(field.slice(0, 80))}`);
    }
  }

  /**
   * Finish: files that were listed but got no hash become error entries, with the reason
   * sha256sum gave on stderr when it can be found.
   */
  end(options: { hashed: boolean; stderr: string }): TreeScan {
    const rest = this.#splitter.end();
    if (rest !== undefined || this.#linkPath !== undefined) {
      throw new RemoteError('Remote scan output ended in the middle of a record');
    }
    const scan = this.#scan;
    if (!options.hashed) return scan;
    for (const [p, f] of scan.files) {
      const sha256 = this.#hashes.get(p);
      if (sha256 !== undefined) {
        scan.files.set(p, { ...f, sha256 });
        continue;
      }
      scan.files.delete(p);
      scan.errors.set(p, reasonFor(p, options.stderr));
    }
    return scan;
  }
}

function reasonFor(rawPath: string, stderr: string): string {
  const prefix = `: ./${rawPath}: `;
  for (const line of stderr.split('\n')) {
    const i = line.indexOf(prefix);
    if (i !== -1) return line.slice(i + prefix.length);
  }
  return 'could not be read';
}

/** Scan a remote tree with one remote pipeline; see `remoteScanCommand`. */
export async function remoteScan(
  runner: RemoteRunner,
  dest: Destination,
  rawRoot: string,
  options: RemoteScanOptions = {},
): Promise<TreeScan> {
  const hashed = options.hash ?? true;
  const command = remoteScanCommand(rawRoot, hashed);
  const proc = await runner.spawn(dest, command, {
    track: true,
    ...(options.signal && { signal: options.signal }),
  });
  proc.stdin.end();
  const parser = new RemoteScanParser();
  const stderrChunks: Buffer[] = [];
  let stderrBytes = 0;
  const drainStderr = (async () => {
    for await (const chunk of proc.stderr as AsyncIterable<Buffer>) {
      // Keep the first MiB: enough for per-file reasons, bounded for a tree of failures.
      if (stderrBytes < 1 << 20) stderrChunks.push(chunk);
      stderrBytes += chunk.length;
    }
  })();
  try {
    // Not destroyed on a parse error: a destroyed channel never emits 'close', so its pool slot stayed taken.
    for await (const chunk of proc.stdout.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      parser.push(chunk);
    }
  } catch (err) {
    proc.kill();
    // Discard what is still in flight so the channel can end, close and free its slot.
    proc.stdout.resume();
    await drainStderr.catch(() => {});
    throw err;
  }
  await drainStderr;
  const { code, signal } = await proc.exited;
  const stderr = Buffer.concat(stderrChunks).toString('latin1');
  const destination = typeof dest === 'string' ? dest : dest.originalHost;
  if (code === EXIT_NO_DIR) {
    throw new RemoteError(`Cannot enter remote directory: ${stderr.trim() || rawRoot}`, { destination });
  }
  if (signal !== null) {
    throw new RemoteError(`Remote scan was killed by signal ${signal}`, { destination });
  }
  const scan = parser.end({ hashed, stderr });
  if (code !== 0) {
    if (scan.errors.size === 0) {
      throw new RemoteError(
        `Remote scan failed (exit ${code}): ${stderr.trim().split('\n').slice(-5).join('\n')}`,
        {
          destination,
        },
      );
    }
    options.logger?.debug({ code, stderr: stderr.slice(0, 4096) }, 'remote scan reported unreadable entries');
  }
  return scan;
}
