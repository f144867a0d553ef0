import { unlink } from 'node:fs/promises';
import { AbortedError, isSshmuxError } from '../errors.js';
import type { Logger } from '../logger.js';
import { rawFromBytes } from '../manifest/raw-path.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { RateLimiter } from '../push/rate-limiter.js';
import { RemoteOps } from '../push/remote-ops.js';
import { openPoolSftp, type PoolSftp } from './pool-sftp.js';
import type { ResolvedTransferOptions, TransferProgress } from './transfer-options.js';
import { splitPath, type XferContext } from './xfer-context.js';

/** How long removing temporary files after an abort may take, over a fresh session. */
const CLEANUP_MS = 10_000;

export interface XferCounters {
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** Bytes that crossed the network in this call. */
  bytesTransferred: number;
  /** Bytes of leftover temporary files that were continued. */
  bytesResumed: number;
  filesResumed: number;
}

/** One transfer call: its SFTP session, the abort wiring, counters, and the clean-up of what failed. */
export class XferSession {
  readonly ctx: XferContext;
  readonly counters: XferCounters = {
    filesTotal: 0,
    filesDone: 0,
    bytesTotal: 0,
    bytesDone: 0,
    bytesTransferred: 0,
    bytesResumed: 0,
    filesResumed: 0,
  };
  readonly #sftp: PoolSftp;
  readonly #runner: RemoteRunner;
  readonly #dest: Destination;
  readonly #inner: AbortController;
  readonly #unlink: () => void;
  readonly #opts: ResolvedTransferOptions;

  private constructor(
    runner: RemoteRunner,
    dest: Destination,
    sftp: PoolSftp,
    inner: AbortController,
    unlinkOuter: () => void,
    opts: ResolvedTransferOptions,
    log: Logger | undefined,
  ) {
    this.#runner = runner;
    this.#dest = dest;
    this.#sftp = sftp;
    this.#inner = inner;
    this.#unlink = unlinkOuter;
    this.#opts = opts;
    const c = this.counters;
    // Aborting closes the session at once: every request in flight fails instead of being waited for.
    inner.signal.addEventListener('abort', () => sftp.destroy(), { once: true });
    this.ctx = {
      client: sftp.client,
      preserve: opts.preserve,
      resume: opts.resume,
      limiter: opts.rateLimit === undefined ? undefined : new RateLimiter(opts.rateLimit),
      signal: inner.signal,
      bytes: (n) => {
        c.bytesDone += n;
        c.bytesTransferred += n;
        this.report();
      },
      resumed: (n) => {
        c.bytesDone += n;
        c.bytesResumed += n;
        c.filesResumed++;
      },
      remotePrefixHash: async (path, length) => {
        const { dir, base } = splitPath(path);
        const ops = new RemoteOps(runner, dest, rawFromBytes(dir), inner.signal);
        return ops.sha256Prefix(rawFromBytes(base), length).catch((err) => {
          log?.info({ err: String(err) }, 'cannot hash the remote prefix: starting the file over');
          return undefined;
        });
      },
      remoteTemps: new Set(),
      localTemps: new Set(),
    };
  }

  /** Open the session; `opts.signal` aborting (or `fail`) aborts everything of this call. */
  static async open(
    runner: RemoteRunner,
    dest: Destination,
    opts: ResolvedTransferOptions,
  ): Promise<XferSession> {
    if (opts.signal?.aborted) throw new AbortedError('Transfer aborted', { cause: opts.signal.reason });
    const inner = new AbortController();
    const onAbort = () => inner.abort(opts.signal?.reason);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const unlinkOuter = () => opts.signal?.removeEventListener('abort', onAbort);
    try {
      const sftp = await openPoolSftp(runner, dest, {
        signal: inner.signal,
        requests: opts.requests,
        ...(opts.bufferLength !== undefined && { bufferLength: opts.bufferLength }),
      });
      const destination = typeof dest === 'string' ? dest : dest.originalHost;
      return new XferSession(
        runner,
        dest,
        sftp,
        inner,
        unlinkOuter,
        opts,
        opts.logger?.child({ transfer: destination }),
      );
    } catch (err) {
      unlinkOuter();
      throw err;
    }
  }

  report(path?: Buffer): void {
    const c = this.counters;
    const p: TransferProgress = {
      bytesDone: c.bytesDone,
      bytesTotal: c.bytesTotal,
      filesDone: c.filesDone,
      filesTotal: c.filesTotal,
      ...(path !== undefined && { path: rawFromBytes(path) }),
    };
    this.#opts.onProgress?.(p);
  }

  /** Stop every file of this call (another one failed). */
  fail(err: unknown): void {
    if (!this.#inner.signal.aborted) this.#inner.abort(err);
  }

  /**
   * End the call: on success close the session; on failure remove the temporary files (unless
   * resuming), over a fresh session when this one was closed by the abort, and rethrow.
   */
  async finish(failure?: unknown): Promise<void> {
    this.#unlink();
    const aborted = this.#inner.signal.aborted;
    if (failure !== undefined && !this.#opts.resume) {
      for (const t of this.ctx.localTemps) await unlink(Buffer.from(t, 'latin1')).catch(() => {});
      if (this.ctx.remoteTemps.size > 0) await this.#removeRemote([...this.ctx.remoteTemps], aborted);
    }
    if (aborted) this.#sftp.destroy();
    await this.#sftp.close();
  }

  /** The error to throw: the caller's abort as an AbortedError, else the first real failure. */
  errorOf(err: unknown): unknown {
    if (this.#opts.signal?.aborted) {
      return isSshmuxError(err) && err.kind === 'aborted'
        ? err
        : new AbortedError('Transfer aborted', { cause: this.#opts.signal.reason });
    }
    const first = this.#inner.signal.reason;
    return this.#inner.signal.aborted && first !== undefined ? first : err;
  }

  async #removeRemote(temps: string[], sessionGone: boolean): Promise<void> {
    const timeout = AbortSignal.timeout(CLEANUP_MS);
    let sftp: PoolSftp | undefined;
    try {
      if (sessionGone) sftp = await openPoolSftp(this.#runner, this.#dest, { signal: timeout });
      const client = sftp?.client ?? this.ctx.client;
      await Promise.all(temps.map((t) => client.remove(Buffer.from(t, 'latin1')).catch(() => {})));
    } catch {
      // Best effort: a server that is gone keeps its temporary files (they are hidden, named .NAME.sshmux-*).
    } finally {
      await sftp?.close();
    }
  }
}
