import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';

interface ClientInternals {
  _protocol?: { ping(): void };
  _callbacks?: ((err?: unknown) => void)[];
}

/**
 * OpenSSH's ServerAliveInterval/CountMax, on a timer that never keeps the process alive.
 * ssh2's own keepalive re-arms a referenced `setInterval` on every packet, out of reach, so
 * an idle pool would hold the event loop open; this one is `unref`ed (a busy connection is
 * kept alive by its referenced socket anyway). Any bytes from the server count as a sign of
 * life, as in OpenSSH; after `countMax` silent intervals the peer is declared dead.
 */
export class Keepalive {
  readonly #client: Client;
  readonly #socket: Duplex;
  readonly #intervalMs: number;
  readonly #countMax: number;
  readonly #onDead: (silentMs: number) => void;
  #timer: NodeJS.Timeout | undefined;
  #missed = 0;
  #heard = false;
  readonly #onData = (): void => {
    this.#heard = true;
  };

  constructor(
    client: Client,
    socket: Duplex,
    intervalMs: number,
    countMax: number,
    onDead: (silentMs: number) => void,
  ) {
    this.#client = client;
    this.#socket = socket;
    this.#intervalMs = intervalMs;
    this.#countMax = Math.max(1, countMax);
    this.#onDead = onDead;
  }

  /**
   * False when this ssh2 lacks the internals used to send keepalive@openssh.com (ssh2 1.x
   * declares both fields in its constructor and fills them in `connect()`).
   */
  get supported(): boolean {
    const c = this.#client as unknown as ClientInternals;
    if (c._protocol === undefined) return '_protocol' in c && '_callbacks' in c;
    return typeof c._protocol.ping === 'function' && Array.isArray(c._callbacks);
  }

  start(): void {
    if (this.#timer || this.#intervalMs <= 0) return;
    this.#socket.on('data', this.#onData);
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#socket.off('data', this.#onData);
  }

  #tick(): void {
    if (this.#heard) {
      this.#heard = false;
      this.#missed = 0;
    } else {
      this.#missed++;
    }
    if (this.#missed >= this.#countMax) {
      this.stop();
      this.#onDead(this.#missed * this.#intervalMs);
      return;
    }
    const c = this.#client as unknown as ClientInternals;
    // ssh2 matches global-request replies to callbacks in order: queue ours before the request.
    c._callbacks?.push(() => {});
    c._protocol?.ping();
  }
}
