import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { listenOnLoopback, portOf } from './loopback.js';

/**
 * A slow link in user space (these kernels have no `tc netem`): a loopback TCP proxy that holds
 * every byte for half the round-trip time and lets it through no faster than the link's rate,
 * each way. The benchmark's WAN profile and the long soak put it between the clients and sshd,
 * so OpenSSH and sshmux cross the same emulated link.
 *
 * The model is a serialising bottleneck followed by a fixed propagation delay: a segment leaves
 * when the link has finished sending the ones before it (`length / rate`), and arrives `rtt / 2`
 * later. The bottleneck is the link's, one per direction shared by every connection (as a real
 * link is): five connections at once share the rate, they do not get five links. What is queued is bounded by the bytes in flight plus a router buffer; past that the
 * proxy stops reading, so TCP's own flow control pushes back on the sender as a real bottleneck
 * does, and memory stays bounded whatever the peers do.
 */
export interface LinkProfile {
  /** Round-trip time added by the link, in milliseconds. @default 40 */
  rttMs?: number;
  /** Rate from client to server, Mbit/s. @default 100 */
  upMbit?: number;
  /** Rate from server to client, Mbit/s. @default `upMbit` */
  downMbit?: number;
  /**
   * Router buffer in bytes on top of the bytes in flight (a full buffer is where queueing delay
   * stops growing and the sender is held back). @default one round trip at the link's rate, at least 64 KiB
   */
  bufferBytes?: number;
}

export interface LinkEmulatorOptions extends LinkProfile {
  targetPort: number;
  /** @default '127.0.0.1' */
  targetHost?: string;
}

/** Bytes carried so far, each way, and connections accepted. */
export interface LinkCounts {
  accepted: number;
  up: number;
  down: number;
}

/** Segments larger than this are cut, so one big read does not cross the link as one burst. */
const SEGMENT = 16 * 1024;

interface Segment {
  data: Buffer;
  due: number;
}

/** One direction of the link: when it has finished sending what it was given so far. */
interface Bottleneck {
  freeAt: number;
}

/** One direction of one connection: the bottleneck queue from `from` to `to`. */
class Direction {
  readonly #queue: Segment[] = [];
  #head = 0;
  #queued = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #blocked = false;
  #paused = false;

  constructor(
    private readonly from: net.Socket,
    private readonly to: net.Socket,
    private readonly link: Bottleneck,
    private readonly bytesPerMs: number,
    private readonly delayMs: number,
    private readonly limit: number,
    private readonly count: (n: number) => void,
  ) {
    from.on('data', (chunk: Buffer) => this.#enqueue(chunk));
    from.on('end', () => {
      this.#ended = true;
      this.#pump();
    });
    to.on('drain', () => {
      this.#blocked = false;
      this.#pump();
    });
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #enqueue(chunk: Buffer): void {
    const now = performance.now();
    for (let off = 0; off < chunk.length; off += SEGMENT) {
      const data = chunk.subarray(off, off + SEGMENT);
      this.link.freeAt = Math.max(this.link.freeAt, now) + data.length / this.bytesPerMs;
      this.#queue.push({ data, due: this.link.freeAt + this.delayMs });
      this.#queued += data.length;
    }
    if (this.#queued > this.limit && !this.#paused) {
      this.#paused = true;
      this.from.pause();
    }
    this.#schedule();
  }

  #schedule(): void {
    const next = this.#queue[this.#head];
    if (this.#timer || this.#blocked || !next) return;
    const wait = Math.max(0, next.due - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, wait);
  }

  /** Deliver what is due, in order, as long as the receiving socket takes it. */
  #pump(): void {
    const now = performance.now();
    for (let next = this.#queue[this.#head]; !this.#blocked && next && next.due <= now + 0.5; ) {
      const { data } = next;
      next = this.#queue[++this.#head];
      this.#queued -= data.length;
      this.count(data.length);
      if (!this.to.destroyed && !this.to.write(data)) this.#blocked = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#paused && this.#queued <= this.limit / 2) {
      this.#paused = false;
      this.from.resume();
    }
    if (this.#head >= this.#queue.length && this.#ended) {
      if (!this.to.destroyed) this.to.end();
      return;
    }
    this.#schedule();
  }
}

/**
 * Start with `await LinkEmulator.start({ targetPort, rttMs: 40, upMbit: 100 })` and point the
 * client at `link.port`; `close()` resets what is still open.
 */
export class LinkEmulator implements AsyncDisposable {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #directions = new Set<Direction>();
  readonly #counts: LinkCounts = { accepted: 0, up: 0, down: 0 };
  readonly #up: Bottleneck = { freeAt: 0 };
  readonly #down: Bottleneck = { freeAt: 0 };
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly profile: Required<LinkProfile>;
  #closed: Promise<void> | undefined;

  private constructor(options: LinkEmulatorOptions) {
    this.#targetHost = options.targetHost ?? '127.0.0.1';
    this.#targetPort = options.targetPort;
    this.profile = resolveProfile(options);
    // Half-open on both sides: a FIN is passed on only once what was queued before it has arrived.
    this.#server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => this.#accept(client));
  }

  /** Listen on a free port of 127.0.0.1. */
  static async start(options: LinkEmulatorOptions): Promise<LinkEmulator> {
    const link = new LinkEmulator(options);
    await listenOnLoopback(link.#server);
    return link;
  }

  get port(): number {
    return portOf(this.#server, 'LinkEmulator');
  }

  get counts(): Readonly<LinkCounts> {
    return { ...this.#counts };
  }

  /** "RTT 40 ms, 100/100 Mbit/s": for reports. */
  describe(): string {
    const { rttMs, upMbit, downMbit } = this.profile;
    return `RTT ${rttMs} ms, ${upMbit}/${downMbit} Mbit/s`;
  }

  async close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      for (const d of this.#directions) d.stop();
      for (const s of this.#sockets) s.resetAndDestroy();
      this.#server.close(() => resolve());
    });
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(client: net.Socket): void {
    if (this.#closed) {
      client.resetAndDestroy();
      return;
    }
    this.#counts.accepted++;
    const upstream = net.connect({
      host: this.#targetHost,
      port: this.#targetPort,
      noDelay: true,
      allowHalfOpen: true,
    });
    const { rttMs, upMbit, downMbit, bufferBytes } = this.profile;
    const rate = (mbit: number): number => (mbit * 1e6) / 8 / 1000;
    const inFlight = (mbit: number): number => rate(mbit) * (rttMs / 2);
    const up = new Direction(
      client,
      upstream,
      this.#up,
      rate(upMbit),
      rttMs / 2,
      inFlight(upMbit) + bufferBytes,
      (n) => {
        this.#counts.up += n;
      },
    );
    const down = new Direction(
      upstream,
      client,
      this.#down,
      rate(downMbit),
      rttMs / 2,
      inFlight(downMbit) + bufferBytes,
      (n) => {
        this.#counts.down += n;
      },
    );
    this.#sockets.add(client).add(upstream);
    this.#directions.add(up).add(down);
    let dropped = false;
    const drop = (): void => {
      if (dropped) return;
      dropped = true;
      up.stop();
      down.stop();
      this.#directions.delete(up);
      this.#directions.delete(down);
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }
}

/** The profile with its defaults filled in; rejects values that make no link. */
export function resolveProfile(p: LinkProfile): Required<LinkProfile> {
  const rttMs = p.rttMs ?? 40;
  const upMbit = p.upMbit ?? 100;
  const downMbit = p.downMbit ?? upMbit;
  for (const [name, v, min] of [
    ['rttMs', rttMs, 0],
    ['upMbit', upMbit, Number.MIN_VALUE],
    ['downMbit', downMbit, Number.MIN_VALUE],
  ] as const) {
    if (!Number.isFinite(v) || v < min)
      throw new RangeError(`link profile: ${name} must be a number ≥ ${min}, got ${v}`);
  }
  const perRtt = ((Math.max(upMbit, downMbit) * 1e6) / 8 / 1000) * rttMs;
  const bufferBytes = p.bufferBytes ?? Math.max(64 * 1024, Math.round(perRtt));
  return { rttMs, upMbit, downMbit, bufferBytes };
}
