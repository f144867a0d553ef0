/** A one-at-a-time lock: btrfs sends into one chain must not race for the same parent. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #users = 0;

  /** Whether someone holds or waits for the lock. */
  get busy(): boolean {
    return this.#users > 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#users++;
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((r) => {
      release = r;
    });
    await prev;
    try {
      return await fn();
    } finally {
      this.#users--;
      release();
    }
  }
}

/**
 * Lets workers through unless a quiet point is wanted: `quiet(fn)` stops new entries, waits until
 * nothing is in flight, runs `fn`, then lets them through again.
 */
export class Gate {
  #inFlight = 0;
  #closed: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  /** Wait while closed, then count one operation in flight until `leave()`. */
  async enter(): Promise<void> {
    while (this.#closed) await this.#closed;
    this.#inFlight++;
  }

  leave(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#idle?.();
  }

  async quiet<T>(fn: () => Promise<T>): Promise<T> {
    let open!: () => void;
    this.#closed = new Promise((r) => {
      open = r;
    });
    try {
      if (this.#inFlight > 0)
        await new Promise<void>((r) => {
          this.#idle = r;
        });
      this.#idle = undefined;
      return await fn();
    } finally {
      this.#closed = undefined;
      open();
    }
  }
}
