import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalError } from '../errors.js';
import type { RateLimiter } from '../push/rate-limiter.js';
import type { SftpClient, SftpPath } from './sftp-client.js';
import { joined } from './sftp-codec.js';

/** Where downloaded bytes go: a local file, or a WRITE on another server (remote to remote). */
export type ChunkSink = (data: Buffer, offset: number) => Promise<void>;

/** Where the data of one READ answer goes, as the pieces it arrived in (see `fileSink`). */
export type PiecesSink = (pieces: Buffer[], offset: number) => Promise<void>;

/**
 * A local file as a sink: each answer's pieces are written at their offset with one `writev`
 * (no Buffer joined for it), and a short write goes on with the rest.
 */
export function fileSink(fh: FileHandle): PiecesSink {
  return async (pieces, offset) => {
    let left = pieces;
    let at = offset;
    for (;;) {
      const { bytesWritten } = await fh.writev(left, at);
      let want = 0;
      for (const p of left) want += p.length;
      if (bytesWritten >= want) return;
      if (bytesWritten === 0) throw new LocalError(`short write at offset ${at}: no byte written`);
      at += bytesWritten;
      left = dropBytes(left, bytesWritten);
    }
  };
}

function dropBytes(pieces: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const p of pieces) {
    if (skip >= p.length) skip -= p.length;
    else {
      out.push(skip > 0 ? p.subarray(skip) : p);
      skip = 0;
    }
  }
  return out;
}

/** What a copy reports as it goes: bytes done so far (for the progress meter). */
export interface TransferHooks {
  /** Called with the bytes of each request as it completes. */
  onProgress?: (bytes: number) => void;
  /** -l: every request's bytes are booked here before it is sent. */
  limiter?: RateLimiter;
  /** Byte offset to begin at (a resumed transfer): the bytes before it are taken as already there. @default 0 */
  start?: number;
}

async function pace(limiter: RateLimiter | undefined, bytes: number): Promise<void> {
  const wait = limiter?.reserve(bytes) ?? 0;
  if (wait > 0) await sleep(wait);
}

/**
 * Read a remote file into a local one with `client.requests` READs in flight, as sftp-client.c
 * does: requests go out at increasing offsets, short answers are asked again for the rest, and
 * the copy ends at the first end-of-file. Returns the bytes written.
 * Chunks may arrive out of order: the sink writes each at its offset. Progress counts the
 * bytes of this call only (a `start` prefix is not included).
 */
export async function downloadTo(
  client: SftpClient,
  handle: Buffer,
  path: SftpPath,
  local: FileHandle | ChunkSink,
  hooks: TransferHooks = {},
): Promise<number> {
  const sink: PiecesSink =
    typeof local === 'function' ? (pieces, offset) => local(joined(pieces), offset) : fileSink(local);
  return readPipelined(client, handle, path, sink, hooks);
}

/** `downloadTo` with the answers in pieces, for a sink that takes them so (`fileSink`). */
export async function readPipelined(
  client: SftpClient,
  handle: Buffer,
  path: SftpPath,
  sink: PiecesSink,
  hooks: TransferHooks = {},
): Promise<number> {
  const length = client.readLength;
  let next = hooks.start ?? 0;
  let eofAt = Number.POSITIVE_INFINITY;
  let done = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  const fetch = async (offset: number, size: number): Promise<void> => {
    const data = await client.readPieces(handle, path, offset, size);
    let got = 0;
    for (const p of data ?? []) got += p.length;
    if (data === null || got === 0) {
      eofAt = Math.min(eofAt, offset);
      return;
    }
    await sink(data, offset);
    done += got;
    hooks.onProgress?.(done);
    // A short read: the rest of this range is asked for again (a server may answer less than asked).
    if (got < size) await fetch(offset + got, size - got);
  };
  const start = (offset: number, size: number): void => {
    const p = fetch(offset, size)
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  while (failure === undefined) {
    while (inFlight.size < client.requests && next < eofAt && failure === undefined) {
      // -l paces what is asked for here, one request at a time, so that a failure is noticed
      // at once instead of after every paced request has waited its turn.
      await pace(hooks.limiter, length);
      if (failure !== undefined || next >= eofAt) break;
      start(next, length);
      next += length;
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  await Promise.allSettled(inFlight);
  if (failure !== undefined) throw failure;
  return done;
}

/**
 * Write a local file to a remote handle with `client.requests` WRITEs in flight. Returns the
 * offset reached (the file's size); progress counts the bytes of this call only.
 */
export async function uploadFrom(
  client: SftpClient,
  handle: Buffer,
  path: SftpPath,
  local: FileHandle,
  hooks: TransferHooks = {},
): Promise<number> {
  const length = client.writeLength;
  let offset = hooks.start ?? 0;
  let acknowledged = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    const buf = Buffer.allocUnsafe(length);
    const { bytesRead } = await local.read(buf, 0, length, offset);
    if (bytesRead === 0) break;
    await pace(hooks.limiter, bytesRead);
    const at = offset;
    offset += bytesRead;
    const p = client
      .write(handle, path, at, buf.subarray(0, bytesRead))
      .then(() => {
        acknowledged += bytesRead;
        hooks.onProgress?.(acknowledged);
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= client.requests) await Promise.race(inFlight);
    if (failure !== undefined) break;
  }
  await Promise.allSettled(inFlight);
  if (failure !== undefined) throw failure;
  return offset;
}
