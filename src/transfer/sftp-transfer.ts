import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimiter } from '../push/rate-limiter.js';
import type { SftpClient, SftpPath } from './sftp-client.js';

/** Where downloaded bytes go: a local file, or a WRITE on another server (remote to remote). */
export type ChunkSink = (data: Buffer, offset: number) => Promise<void>;

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
  const sink: ChunkSink =
    typeof local === 'function'
      ? local
      : async (data, offset) => void (await local.write(data, 0, data.length, offset));
  const length = client.readLength;
  let next = hooks.start ?? 0;
  let eofAt = Number.POSITIVE_INFINITY;
  let done = 0;
  let failure: unknown;
  const inFlight = new Set<Promise<void>>();
  const fetch = async (offset: number, size: number): Promise<void> => {
    const data = await client.read(handle, path, offset, size);
    if (data === null || data.length === 0) {
      eofAt = Math.min(eofAt, offset);
      return;
    }
    await sink(data, offset);
    done += data.length;
    hooks.onProgress?.(done);
    // A short read: the rest of this range is asked for again (a server may answer less than asked).
    if (data.length < size) await fetch(offset + data.length, size - data.length);
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
