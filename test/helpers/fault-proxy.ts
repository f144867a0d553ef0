import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { listenOnLoopback, portOf } from './loopback.js';

/** mulberry32: a small seeded PRNG, so a soak run's fault decisions can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Probabilities (0..1) that a new connection gets each fault; at most one per connection. */
export interface FaultRates {
  /** Reset both sides once this many bytes (uniform up to `maxCutOffset`) have crossed. */
  cut: number;
  /** Hold all bytes for `stallMs` (uniform up to `maxStallMs`) once an offset is reached. */
  stall: number;
  /** Deliver every chunk late (up to `maxDelayMs`) and in small fragments (1..`maxFragment` bytes each). */
  slow: number;
}

export interface FaultProxyOptions {
  targetPort: number;
  /** @default '127.0.0.1' */
  targetHost?: string;
  seed: number;
  /** @default no faults */
  rates?: Partial<FaultRates>;
  /** @default 256 KiB */
  maxCutOffset?: number;
  /** @default 6000 */
  maxStallMs?: number;
  /** @default 20 */
  maxDelayMs?: number;
  /** @default 1500 */
  maxFragment?: number;
}

/** What the proxy did so far. */
export interface FaultCounts {
  accepted: number;
  refused: number;
  cut: number;
  stalled: number;
  slowed: number;
}

export type Plan =
  | { kind: 'clean' }
  | { kind: 'cut'; at: number }
  | { kind: 'stall'; at: number; ms: number }
  | { kind: 'slow'; delayMs: number; fragment: number; jitter: () => number };

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  plan: Plan;
  /** Bytes forwarded in both directions together. */
  bytes: number;
  stallUntil: number;
  dead: boolean;
}

/**
 * A loopback TCP proxy that injects faults decided by a seeded PRNG, one plan per accepted
 * connection: a reset at a random byte offset, a stall at a random offset, or slow delivery
 * in delayed fragments. `refuse(ms)` resets new connections for a while and `cutAll()`
 * resets everything now. Unlike `TcpProxy` it copies bytes itself (no `pipe`), so it can
 * cut mid-chunk; backpressure is kept by pausing the reading side while a write is pending.
 */
export class FaultProxy implements AsyncDisposable {
  readonly #server: net.Server;
  readonly #opts: Required<Omit<FaultProxyOptions, 'rates' | 'targetHost'>> & { targetHost: string };
  readonly #random: () => number;
  readonly #links = new Set<Link>();
  #rates: FaultRates;
  #refuseUntil = 0;
  #holdDown = false;
  #closed: Promise<void> | undefined;
  readonly counts: FaultCounts = { accepted: 0, refused: 0, cut: 0, stalled: 0, slowed: 0 };

  private constructor(options: FaultProxyOptions) {
    this.#opts = {
      targetPort: options.targetPort,
      targetHost: options.targetHost ?? '127.0.0.1',
      seed: options.seed,
      maxCutOffset: options.maxCutOffset ?? 256 * 1024,
      maxStallMs: options.maxStallMs ?? 6_000,
      maxDelayMs: options.maxDelayMs ?? 20,
      maxFragment: options.maxFragment ?? 1_500,
    };
    this.#random = prng(options.seed);
    this.#rates = { cut: 0, stall: 0, slow: 0, ...options.rates };
    this.#server = net.createServer({ noDelay: true }, (client) => this.#accept(client));
  }

  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await listenOnLoopback(proxy.#server);
    return proxy;
  }

  get port(): number {
    return portOf(this.#server, 'FaultProxy');
  }

  /** Connections currently forwarded. */
  get connections(): number {
    return this.#links.size;
  }

  /** Faults injected so far (cuts, stalls, slowed connections, refusals). */
  get faults(): number {
    const c = this.counts;
    return c.cut + c.stalled + c.slowed + c.refused;
  }

  /** Change fault rates for connections accepted from now on. */
  setRates(rates: Partial<FaultRates>): void {
    this.#rates = { ...this.#rates, ...rates };
  }

  /** A number in [0, 1) from the proxy's seeded sequence (for callers that pick faults of their own). */
  random(): number {
    return this.#random();
  }

  /** Reset new connections as they arrive for `ms` milliseconds. */
  refuse(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
  }

  /**
   * Give one live connection (picked by the seeded PRNG) a new fault, counted from the bytes
   * it has moved so far: a pooled connection opened long ago gets faults too. Returns what
   * it did, or null when nothing is connected.
   */
  strike(): Plan['kind'] | null {
    const live = [...this.#links].filter((l) => !l.dead);
    if (live.length === 0) return null;
    const link = live[Math.floor(this.#random() * live.length)]!;
    const o = this.#opts;
    const r = this.#random();
    const ahead = Math.floor(this.#random() * o.maxCutOffset);
    if (r < 0.5) link.plan = { kind: 'cut', at: link.bytes + ahead };
    else {
      link.plan = {
        kind: 'stall',
        at: link.bytes + ahead,
        ms: 200 + Math.floor(this.#random() * o.maxStallMs),
      };
      link.stallUntil = 0;
    }
    return link.plan.kind;
  }

  /**
   * Reset every live connection once `bytes` more bytes (both directions together) have crossed
   * it, delivering the bytes up to that offset first: a cut at an exact point of the traffic that
   * follows. Returns how many connections got the plan.
   */
  cutAfter(bytes: number): number {
    const live = [...this.#links].filter((l) => !l.dead);
    for (const link of live) link.plan = { kind: 'cut', at: link.bytes + bytes };
    return live.length;
  }

  /**
   * Stop delivering server → client bytes on every connection (the client's still flow), until
   * the connections are cut: replies already sent never arrive, as when a link dies silently.
   */
  holdFromServer(): void {
    this.#holdDown = true;
  }

  /** Reset every forwarded connection now. */
  cutAll(): void {
    this.#holdDown = false;
    for (const l of [...this.#links]) this.#kill(l, true);
  }

  async close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.cutAll();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #plan(): Plan {
    const r = this.#random();
    const { cut, stall, slow } = this.#rates;
    const o = this.#opts;
    if (r < cut) return { kind: 'cut', at: Math.floor(this.#random() * o.maxCutOffset) };
    if (r < cut + stall) {
      return {
        kind: 'stall',
        at: Math.floor(this.#random() * o.maxCutOffset),
        ms: 200 + Math.floor(this.#random() * o.maxStallMs),
      };
    }
    if (r < cut + stall + slow) {
      return {
        kind: 'slow',
        delayMs: 1 + Math.floor(this.#random() * o.maxDelayMs),
        fragment: 1 + Math.floor(this.#random() * o.maxFragment),
        // Its own sequence: delays depend on traffic, the next connections' plans must not.
        jitter: prng(Math.floor(this.#random() * 2 ** 32)),
      };
    }
    return { kind: 'clean' };
  }

  #accept(client: net.Socket): void {
    if (Date.now() < this.#refuseUntil || this.#closed) {
      this.counts.refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    this.counts.accepted++;
    const plan = this.#plan();
    if (plan.kind === 'slow') this.counts.slowed++;
    const upstream = net.connect({ host: this.#opts.targetHost, port: this.#opts.targetPort, noDelay: true });
    const link: Link = { client, upstream, plan, bytes: 0, stallUntil: 0, dead: false };
    this.#links.add(link);
    const drop = (): void => this.#kill(link, false);
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    this.#forward(link, client, upstream);
    this.#forward(link, upstream, client);
  }

  #kill(link: Link, reset: boolean): void {
    if (link.dead) return;
    link.dead = true;
    this.#links.delete(link);
    if (reset) {
      link.client.resetAndDestroy();
      link.upstream.resetAndDestroy();
    } else {
      link.client.destroy();
      link.upstream.destroy();
    }
  }

  /** Copy `from` → `to` chunk by chunk, applying the link's plan; one chunk in flight at a time. */
  #forward(link: Link, from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk: Buffer) => {
      from.pause();
      this.#deliver(link, to, chunk).then(
        () => {
          if (!link.dead) from.resume();
        },
        () => this.#kill(link, false),
      );
    });
  }

  async #deliver(link: Link, to: net.Socket, chunk: Buffer): Promise<void> {
    const plan = link.plan;
    if (plan.kind === 'cut' && link.bytes + chunk.length > plan.at) {
      // Deliver the bytes up to the offset, then reset: a cut mid-packet.
      const head = chunk.subarray(0, Math.max(0, plan.at - link.bytes));
      if (head.length > 0) await write(to, head);
      this.counts.cut++;
      this.#kill(link, true);
      return;
    }
    if (plan.kind === 'stall' && link.stallUntil === 0 && link.bytes + chunk.length > plan.at) {
      link.stallUntil = Date.now() + plan.ms;
      this.counts.stalled++;
    }
    if (link.stallUntil > Date.now()) await sleep(link.stallUntil - Date.now());
    while (this.#holdDown && to === link.client && !link.dead) await sleep(20);
    if (link.dead) return;
    link.bytes += chunk.length;
    if (plan.kind !== 'slow') {
      await write(to, chunk);
      return;
    }
    for (let at = 0; at < chunk.length && !link.dead; at += plan.fragment) {
      await sleep(Math.floor(plan.jitter() * plan.delayMs));
      if (!link.dead) await write(to, chunk.subarray(at, at + plan.fragment));
    }
  }
}

function write(socket: net.Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    if (socket.write(data)) resolve();
    else {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('drain', done).once('close', done);
    }
  });
}
