import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Bounds connection attempts: at most `limit` in flight, each started at least `stagger` ms
 * after the previous, in arrival order. What sshd's MaxStartups counts is exactly these
 * unauthenticated connections, so a fan-out through the gate never reaches it.
 */
export class ConnectGate {
  readonly #limit: number;
  readonly #stagger: number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;
  #nextStart = 0;
  #peak = 0;

  constructor(limit: number, stagger: number) {
    this.#limit = limit;
    this.#stagger = stagger;
  }

  /** Most attempts in flight at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Run `attempt` inside the gate; rejects with `signal.reason` if aborted while waiting. */
  async run<T>(signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    await this.#slot(signal);
    try {
      const now = Date.now();
      const start = Math.max(now, this.#nextStart);
      this.#nextStart = start + this.#stagger;
      // unref: a pending stagger alone must not keep the process alive.
      if (start > now) await sleep(start - now, undefined, { ref: false, ...(signal && { signal }) });
      if (signal?.aborted) throw signal.reason;
      return await attempt();
    } finally {
      // The slot passes straight to the next in line, so no newcomer can slip in between.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  async #slot(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    if (this.#active >= this.#limit) {
      // Resolved by a finishing attempt that hands over its slot: #active stays as it is.
      return new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(signal?.reason);
        };
        this.#waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.#active++;
    this.#peak = Math.max(this.#peak, this.#active);
  }
}
