import net from 'node:net';
import { listenOnLoopback, portOf } from './loopback.js';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export interface TcpProxyOptions {
  /** Where connections are forwarded. @default '127.0.0.1' */
  targetHost?: string;
  targetPort: number;
}

/**
 * A loopback TCP proxy that a test can misbehave on purpose: `freeze()` stops traffic in
 * both directions without closing anything (a dead peer, a pulled cable), `cutAll()` resets
 * every connection, `refuse(ms)` resets new connections for a while. Start it with
 * `await TcpProxy.start({ targetPort })` and point the client at `proxy.port`.
 */
export class TcpProxy implements AsyncDisposable {
  readonly #server: net.Server;
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #pairs = new Set<Pair>();
  #frozen = false;
  #refuseUntil = 0;
  #accepted = 0;
  #closed: Promise<void> | undefined;

  private constructor(options: TcpProxyOptions) {
    this.#targetHost = options.targetHost ?? '127.0.0.1';
    this.#targetPort = options.targetPort;
    this.#server = net.createServer({ noDelay: true }, (client) => this.#accept(client));
  }

  /** Listen on a free port of 127.0.0.1. */
  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await listenOnLoopback(proxy.#server);
    return proxy;
  }

  get port(): number {
    return portOf(this.#server, 'TcpProxy');
  }

  /** Connections currently forwarded. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Connections accepted (and forwarded) since start. */
  get accepted(): number {
    return this.#accepted;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Stop moving bytes in both directions, on existing and new connections; nothing is closed. */
  freeze(): void {
    this.#frozen = true;
    for (const p of this.#pairs) this.#stop(p);
  }

  /** Move bytes again; what was held back is delivered. */
  thaw(): void {
    this.#frozen = false;
    for (const p of this.#pairs) this.#flow(p);
  }

  /** Reset every forwarded connection (both sides see ECONNRESET). */
  cutAll(): void {
    for (const p of [...this.#pairs]) {
      this.#pairs.delete(p);
      p.client.resetAndDestroy();
      p.upstream.resetAndDestroy();
    }
  }

  /** Reset new connections as they arrive for `ms` milliseconds (0 accepts again at once). */
  refuse(ms: number): void {
    this.#refuseUntil = Date.now() + ms;
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

  #accept(client: net.Socket): void {
    if (Date.now() < this.#refuseUntil || this.#closed) {
      client.resetAndDestroy();
      return;
    }
    this.#accepted++;
    const upstream = net.connect({ host: this.#targetHost, port: this.#targetPort, noDelay: true });
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    const drop = (): void => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    if (this.#frozen) this.#stop(pair);
    else this.#flow(pair);
  }

  #flow(p: Pair): void {
    p.client.pipe(p.upstream);
    p.upstream.pipe(p.client);
  }

  #stop(p: Pair): void {
    p.client.unpipe(p.upstream);
    p.upstream.unpipe(p.client);
    p.client.pause();
    p.upstream.pause();
  }
}
