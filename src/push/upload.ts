import { createReadStream } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SFTPWrapper } from 'ssh2';
import { LocalError, NetworkError, RemoteError, type SshmuxError, translateError } from '../errors.js';
import { displayPath, rawToString } from '../manifest/raw-path.js';
import type { ScannedFile } from '../manifest/tree-scan.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { explainWriteFailure } from './no-space.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RemoteOps } from './remote-ops.js';

/** What one upload needs; paths are raw, `remote*` relative to the login directory. */
export interface UploadJob {
  readonly rel: string;
  readonly localPath: Buffer;
  /** Remote final and temporary paths (raw). */
  readonly remotePath: string;
  readonly remoteTmp: string;
  /** Temporary path relative to the push root (for the exec route). */
  readonly relTmp: string;
  readonly file: ScannedFile;
  /** Byte offset to continue from (the verified length of a leftover temporary file). */
  readonly start: number;
}

export interface UploadContext {
  readonly runner: RemoteRunner;
  readonly dest: Destination;
  readonly destination: string;
  readonly ops: RemoteOps;
  readonly limiter: RateLimiter | undefined;
  readonly signal: AbortSignal;
  readonly onBytes: (n: number) => void;
}

function call<T = void>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** ssh2 reports SFTP status replies with a numeric `code` (2 no such file, 3 permission denied, 4 failure…). */
export function classifyUploadError(err: unknown, ctx: UploadContext, rel: string): SshmuxError {
  const where = `push ${displayPath(rel)}`;
  if (ctx.signal.aborted) return translateError(ctx.signal.reason ?? err, ctx.destination, where);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number') {
    return new RemoteError(`${where}: ${(err as Error).message}`, {
      destination: ctx.destination,
      cause: err,
    });
  }
  const e = translateError(err, ctx.destination, where);
  if (e.kind === 'local' && code === 'ENOENT') {
    return new LocalError(`${where}: the local file vanished during the push`, { cause: err });
  }
  return e;
}

function meter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

function source(job: UploadJob, ctx: UploadContext): NodeJS.ReadableStream[] {
  const rs = createReadStream(job.localPath, { start: job.start, highWaterMark: 256 * 1024 });
  return [rs, ...(ctx.limiter ? [ctx.limiter.stream(ctx.signal)] : []), meter(ctx.onBytes)];
}

/** The local file must still be what was planned, or the pushed copy is a mix of two versions. */
async function assertUnchanged(job: UploadJob): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(job.localPath);
  } catch (err) {
    throw new LocalError(`push ${displayPath(job.rel)}: the local file vanished during the push`, {
      cause: err,
    });
  }
  if (Number(st.size) !== job.file.size || Math.floor(Number(st.mtimeMs) / 1000) !== job.file.mtime) {
    throw new LocalError(`push ${displayPath(job.rel)}: the local file changed during the push`);
  }
}

/** WRITE requests in flight per file, as OpenSSH's `sftp -R` (default 64). */
const WRITES_IN_FLIGHT = 64;

/**
 * Write the local file from `job.start` to its planned size into an open SFTP handle, keeping
 * up to 64 WRITE requests in flight: one request at a time (ssh2's write stream) makes every
 * 32 KiB wait a round trip, which on a 30 ms link is 1 MB/s. Bytes count as sent when the
 * server acknowledges them; the rate limit (if any) paces the requests.
 */
async function writePipelined(
  sftp: SFTPWrapper,
  handle: Buffer,
  job: UploadJob,
  ctx: UploadContext,
  guarded: <T>(p: Promise<T>) => Promise<T>,
  signal: AbortSignal,
): Promise<void> {
  const maxWrite = (sftp as unknown as { _maxWriteLen?: number })._maxWriteLen;
  const chunkSize =
    typeof maxWrite === 'number' && maxWrite >= 1024 ? Math.min(maxWrite, 256 * 1024) : 32 * 1024;
  const size = job.file.size;
  const fh = await open(job.localPath, 'r');
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for (let pos = job.start; pos < size && failure === undefined; ) {
      signal.throwIfAborted();
      const len = Math.min(chunkSize, size - pos);
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      if (bytesRead !== len) {
        throw new LocalError(`push ${displayPath(job.rel)}: the local file changed during the push`);
      }
      const wait = ctx.limiter?.reserve(len) ?? 0;
      if (wait > 0) await sleep(wait, undefined, { signal });
      const at = pos;
      const sent: Promise<void> = call((cb) => sftp.write(handle, buf, 0, len, at, cb)).then(
        () => {
          pending.delete(sent);
          ctx.onBytes(len);
        },
        (error: unknown) => {
          pending.delete(sent);
          failure ??= { error };
        },
      );
      pending.add(sent);
      pos += len;
      if (pending.size >= WRITES_IN_FLIGHT) await guarded(Promise.race(pending));
    }
    await guarded(Promise.all(pending));
    if (failure) throw failure.error;
  } finally {
    await fh.close();
  }
}

/**
 * Upload over a leased SFTP session: stream into the temporary name (continuing at
 * `start`), set mode and mtime, then `posix-rename@openssh.com` over the final name so a
 * reader sees the old file or the new one, never half of it.
 */
export async function uploadSftp(sftp: SFTPWrapper, job: UploadJob, ctx: UploadContext): Promise<void> {
  const tmp = rawToString(job.remoteTmp);
  const final = rawToString(job.remotePath);
  // A dropped connection can leave SFTP requests unanswered forever: end the upload as soon as the session goes.
  const gone = new AbortController();
  const onGone = (err?: Error) =>
    gone.abort(
      new NetworkError(`push ${displayPath(job.rel)}: the SFTP session closed mid-transfer`, {
        destination: ctx.destination,
        ...(err instanceof Error && { cause: err }),
      }),
    );
  const events = ['close', 'end', 'error'] as const;
  for (const e of events) sftp.on(e, onGone);
  if ((sftp as unknown as { outgoing?: { state?: string } }).outgoing?.state === 'closed') onGone();
  const signal = AbortSignal.any([ctx.signal, gone.signal]);
  // One listener per call, removed when the call settles: a large file makes thousands of calls.
  const guarded = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  try {
    const handle = await guarded(
      call<Buffer>((cb) => sftp.open(tmp, job.start > 0 ? 'r+' : 'w', { mode: 0o600 }, cb)),
    );
    let closed = false;
    try {
      await writePipelined(sftp, handle, job, ctx, guarded, signal);
      await assertUnchanged(job);
      closed = true;
      await guarded(call((cb) => sftp.close(handle, cb)));
    } finally {
      if (!closed) sftp.close(handle, () => {});
    }
    const attrs = { mode: job.file.mode, atime: job.file.mtime, mtime: job.file.mtime };
    await guarded(call((cb) => sftp.setstat(tmp, attrs, cb)));
    try {
      await guarded(call((cb) => sftp.ext_openssh_rename(tmp, final, cb)));
    } catch (err) {
      // Only a server without the extension gets here: plain SFTP rename refuses to overwrite.
      if (!/does not support/i.test((err as Error)?.message ?? '')) throw err;
      await guarded(call((cb) => sftp.unlink(final, cb))).catch(() => {});
      await guarded(call((cb) => sftp.rename(tmp, final, cb)));
    }
  } catch (err) {
    if (gone.signal.aborted && !ctx.signal.aborted) throw gone.signal.reason;
    throw await explainWriteFailure(sftp, err, {
      rel: job.rel,
      remoteTmp: tmp,
      needed: job.file.size - job.start,
      destination: ctx.destination,
    });
  } finally {
    for (const e of events) sftp.off(e, onGone);
  }
}

/** Upload through an exec channel (`cat >> tmp`, then chmod, touch, mv), for names SFTP in ssh2 cannot carry. */
export async function uploadExec(job: UploadJob, ctx: UploadContext): Promise<void> {
  const command = ctx.ops.uploadCommand({ tmp: job.relTmp, start: job.start });
  const proc = await ctx.runner.spawn(ctx.dest, command, { signal: ctx.signal, track: true });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 8192) stderr += d.toString('latin1');
  });
  proc.stdout.resume();
  await pipeline([...source(job, ctx), proc.stdin] as unknown as Parameters<typeof pipeline>[0][], {
    signal: ctx.signal,
  });
  const { code, signal } = await proc.exited;
  if (code !== 0) {
    throw new RemoteError(
      `push ${displayPath(job.rel)}: remote write failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
      {
        destination: ctx.destination,
      },
    );
  }
  await assertUnchanged(job);
  await ctx.ops.run(
    ctx.ops.finishScript({ path: job.rel, tmp: job.relTmp, mode: job.file.mode, mtime: job.file.mtime }),
  );
}
