import type { Readable } from 'node:stream';
import type { BtrfsHost } from './host.js';

/** `btrfs-stream\0` and a little-endian u32 version. */
const STREAM_HEADER = 17;
const CMD_HEADER = 10;
const CMD_WRITE_MAX = 48 * 1024;
const CMD_UPDATE_EXTENT = 22;
const ATTR_SIZE = 4;
const ATTR_PATH = 15;

/**
 * Sizes the stream `btrfs send` will write from the stream `btrfs send --no-data` writes: the
 * same commands, except that each extent is an UPDATE_EXTENT (path, offset, size) instead of
 * WRITE commands carrying the data, at most 48 KiB each (protocol 1). So the estimate is the
 * metadata exactly, plus every extent's bytes and its WRITE commands' headers.
 */
export class StreamSizer {
  #pending: Buffer = Buffer.alloc(0);
  #skip = STREAM_HEADER;
  #total = 0;

  /** Feed the next bytes of a `--no-data` stream. */
  push(chunk: Buffer): void {
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      this.#total += n;
      chunk = chunk.subarray(n);
    }
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buf.length >= CMD_HEADER) {
      const len = buf.readUInt32LE(0);
      if (buf.length < CMD_HEADER + len) break;
      const cmd = buf.readUInt16LE(4);
      const body = buf.subarray(CMD_HEADER, CMD_HEADER + len);
      this.#total += cmd === CMD_UPDATE_EXTENT ? writesFor(body) : CMD_HEADER + len;
      buf = buf.subarray(CMD_HEADER + len);
    }
    this.#pending = Buffer.from(buf);
  }

  /** Estimated bytes of the stream with data. */
  get total(): number {
    return this.#total;
  }
}

/** Bytes of the WRITE commands that replace one UPDATE_EXTENT: data, and per command a header and its TLVs. */
function writesFor(body: Buffer): number {
  let size = 0;
  let pathLen = 0;
  for (let at = 0; at + 4 <= body.length; ) {
    const type = body.readUInt16LE(at);
    const len = body.readUInt16LE(at + 2);
    if (type === ATTR_SIZE && len === 8) size = Number(body.readBigUInt64LE(at + 4));
    if (type === ATTR_PATH) pathLen = len;
    at += 4 + len;
  }
  // A WRITE: command header, PATH, FILE_OFFSET (u64) and the DATA attribute's header.
  const perCommand = CMD_HEADER + (4 + pathLen) + (4 + 8) + 4;
  return size + Math.ceil(size / CMD_WRITE_MAX) * perCommand;
}

/** Size a `--no-data` stream read from `source`. */
export async function sizeStream(source: Readable): Promise<number> {
  const sizer = new StreamSizer();
  for await (const chunk of source) sizer.push(chunk as Buffer);
  return sizer.total;
}

/**
 * Estimate the stream of `btrfs send SENDARGS` on `host` by running it with `--no-data`
 * (metadata only; it runs beside the real send). Null when that fails or `signal` stops it.
 */
export async function estimateSendSize(
  host: BtrfsHost,
  sendArgv: readonly string[],
  signal: AbortSignal,
): Promise<number | null> {
  const at = sendArgv.indexOf('send');
  const argv = [...sendArgv.slice(0, at + 1), '--no-data', ...sendArgv.slice(at + 1)];
  const proc = await host.spawn([argv], { signal });
  const stop = () => proc.kill();
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  try {
    proc.stdin.end();
    const [total, exit] = await Promise.all([sizeStream(proc.stdout), proc.exited]);
    return exit.code === 0 && !signal.aborted ? total : null;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
