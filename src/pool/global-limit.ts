import PQueue from 'p-queue';

/**
 * The pool-wide bound on operations in flight, across hosts. A p-queue used as a
 * semaphore: a permit is held from the moment an operation starts until its channel
 * closes (for `spawn`, long after `spawn()` returned), so the queue's task is a promise
 * that settles on `release()`. An abort removes a permit request only while it still
 * waits; once granted, the permit is the holder's to release.
 */
export class GlobalLimit {
  readonly #queue: PQueue;

  constructor(concurrency: number) {
    this.#queue = new PQueue({ concurrency });
  }

  /** Permits waiting to be granted. */
  get waiting(): number {
    return this.#queue.size;
  }

  /** Permits granted and not yet released. */
  get running(): number {
    return this.#queue.pending;
  }

  /** Wait for a permit; resolves with its `release` (idempotent). Rejects with the reason of `signals` while waiting. */
  acquire(...signals: (AbortSignal | undefined)[]): Promise<() => void> {
    const given = signals.filter((s): s is AbortSignal => s !== undefined);
    const aborted = given.find((s) => s.aborted);
    if (aborted) return Promise.reject(aborted.reason);
    return new Promise((resolve, reject) => {
      // Aborts only a waiting request: p-queue would otherwise race a granted permit against
      // the signal and free it while the operation still holds its channel.
      const queued = new AbortController();
      const onAbort = (event: Event): void => queued.abort((event.target as AbortSignal).reason);
      for (const s of given) s.addEventListener('abort', onAbort, { once: true });
      const detach = (): void => {
        for (const s of given) s.removeEventListener('abort', onAbort);
      };
      this.#queue
        .add(
          () =>
            new Promise<void>((release) => {
              detach();
              let done = false;
              resolve(() => {
                if (done) return;
                done = true;
                release();
              });
            }),
          { signal: queued.signal },
        )
        .catch((err: unknown) => {
          detach();
          reject(err);
        });
    });
  }
}
