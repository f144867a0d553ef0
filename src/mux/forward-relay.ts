import { randomBytes } from 'node:crypto';
import { Duplex, PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigError, translateError } from '../errors.js';
import type { IncomingConnection, RemoteBind, RemoteListener, RemoteRunner } from '../pool/types.js';
import { type DaemonHooks, hostConfigFrom } from './daemon-session.js';
import { CreditSink, CreditSource } from './flow.js';
import type { FramedSocket } from './framed-socket.js';
import { type Frame, FrameType, type ListenMessage } from './protocol.js';

/** How long a connection the server offered waits for its client to claim it. */
const OFFER_TIMEOUT_MS = 30_000;

/** A connection offered to a client: a forwarded channel, or an agent channel to relay. */
interface Claimable {
  readonly originAddress: string;
  readonly originPort: number;
  accept(): Duplex;
  reject(): void;
}

interface Offer {
  readonly incoming: Claimable;
  /** The client connection it was announced on; only it may refuse it. */
  readonly owner: FramedSocket;
  readonly timer: NodeJS.Timeout;
}

type Listening = RemoteRunner & {
  listen?(
    dest: ReturnType<typeof hostConfigFrom>,
    bind: RemoteBind,
    handler: (incoming: IncomingConnection) => void,
  ): Promise<RemoteListener>;
};

function errorFrame(err: unknown): Frame {
  const e = translateError(err);
  return { type: FrameType.Error, body: { kind: e.kind, code: e.code, message: e.message } };
}

function bindFrom(raw: unknown): RemoteBind {
  const b = raw as Record<string, unknown> | null;
  if (b !== null && typeof b === 'object') {
    if (typeof b.path === 'string' && b.path !== '') return { path: b.path };
    if (
      typeof b.address === 'string' &&
      Number.isInteger(b.port) &&
      (b.port as number) >= 0 &&
      (b.port as number) <= 65535
    )
      return { address: b.address, port: b.port as number };
  }
  throw new ConfigError('the client sent a bad listen address');
}

/**
 * The daemon's half of remote forwarding. A LISTEN connection holds one listener on the pooled
 * connection; each connection the server offers is announced on it under a random id, and
 * only an ACCEPT naming that id (from the client that holds the listener, which alone learns
 * it) gets the channel. The listener lives exactly as long as its LISTEN connection.
 */
export class ForwardRelay {
  readonly #offers = new Map<string, Offer>();

  /** Offers not yet claimed (for tests). */
  get pending(): number {
    return this.#offers.size;
  }

  async serveListen(conn: FramedSocket, hooks: DaemonHooks, body: ListenMessage): Promise<void> {
    const runner = hooks.runner as Listening;
    let listener: RemoteListener | undefined;
    let ended = false;
    // EOF and the connection's close both end the listener: cancel it on the server once only
    // (which of the two comes first is up to the platform's pipes).
    let closing: Promise<void> | undefined;
    const closeListener = (): Promise<void> => {
      if (listener === undefined) return Promise.resolve();
      closing ??= listener.close();
      return closing;
    };
    hooks.sessionStarted();
    conn.onClose(() => {
      this.dropOffers(conn);
      void closeListener();
      if (!ended) {
        ended = true;
        hooks.sessionEnded();
      }
    });
    conn.onFrame((f) => {
      if (f.type === FrameType.Refuse) {
        this.refuse(conn, String(f.body.id));
      } else if (f.type === FrameType.Eof) {
        // The client is done: cancel on the server first, then say so by closing.
        void closeListener().then(() => conn.end());
      } else {
        conn.destroy();
      }
    });
    try {
      if (runner.listen === undefined) throw new ConfigError('this daemon cannot listen on servers');
      const host = hostConfigFrom(body.host);
      hooks.hostRequested(host);
      // The forwards come first, so this is where a new connection's banner reaches the client.
      const stopNotices = hooks.opening?.(host, (text) =>
        conn.send({ type: FrameType.Notice, body: { text } }),
      );
      try {
        listener = await runner.listen(host, bindFrom(body.bind), (incoming) => this.#offer(conn, incoming));
      } finally {
        stopNotices?.();
      }
    } catch (err) {
      conn.end(errorFrame(err));
      return;
    }
    if (conn.closed) await closeListener();
    else conn.send({ type: FrameType.Listening, body: { port: listener.port } });
  }

  #offer(conn: FramedSocket, incoming: Claimable): void {
    if (conn.closed) {
      incoming.reject();
      return;
    }
    const id = randomBytes(16).toString('hex');
    const timer = setTimeout(() => this.#take(id)?.incoming.reject(), OFFER_TIMEOUT_MS);
    timer.unref();
    this.#offers.set(id, { incoming, owner: conn, timer });
    conn.send({
      type: FrameType.Incoming,
      body: { id, originAddress: incoming.originAddress, originPort: incoming.originPort },
    });
  }

  /**
   * An agent channel for the session on `conn`: announced to that client only, which connects
   * to its own agent and claims it (or refuses). Resolves with the stream ssh2 pipes the channel to.
   */
  offerAgent(conn: FramedSocket): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      const toAgent = new PassThrough();
      const fromAgent = new PassThrough();
      this.#offer(conn, {
        originAddress: '',
        originPort: 0,
        accept: () => {
          // Two ends over the same pair of buffers: ssh2 pipes one to the agent channel, the
          // relay the other to the client. ssh2 uses pipe(), which listens for no errors.
          const forSsh = Duplex.from({ readable: fromAgent, writable: toAgent });
          const forClient = Duplex.from({ readable: toAgent, writable: fromAgent });
          for (const end of [forSsh, forClient]) end.on('error', () => end.destroy());
          resolve(forSsh);
          return forClient;
        },
        reject: () => reject(new ConfigError('the client has no agent to forward to')),
      });
    });
  }

  /** The client on `conn` could not reach its target: refuse the offer, if it was made to it. */
  refuse(conn: FramedSocket, id: string): void {
    if (this.#offers.get(id)?.owner === conn) this.#take(id)?.incoming.reject();
  }

  /** `conn` went away: what was offered to it is refused. */
  dropOffers(conn: FramedSocket): void {
    for (const [id, offer] of this.#offers) if (offer.owner === conn) this.#take(id)?.incoming.reject();
  }

  #take(id: string): Offer | undefined {
    const offer = this.#offers.get(id);
    if (offer === undefined) return undefined;
    this.#offers.delete(id);
    clearTimeout(offer.timer);
    return offer;
  }

  /** An ACCEPT connection: the claimed channel's bytes on streams 0 (to the server) and 1 (from it). */
  serveAccept(conn: FramedSocket, body: { id: string }): void {
    const offer = this.#take(String(body.id));
    if (offer === undefined) {
      conn.end(errorFrame(new ConfigError('no such offered connection (taken, refused or timed out)')));
      return;
    }
    const channel = offer.incoming.accept();
    const send = (f: Frame): void => conn.send(f);
    const toClient = new CreditSink(1, send);
    const fromClient = new CreditSource(0, channel, send);
    channel.on('error', () => conn.destroy());
    conn.onClose(() => {
      toClient.destroy();
      channel.destroy();
    });
    conn.onFrame((f) => {
      if (f.type === FrameType.Data && f.stream === 0) fromClient.write(f.data);
      else if (f.type === FrameType.Eof && f.stream === 0)
        void fromClient.flushed().then(() => channel.end());
      else if (f.type === FrameType.Window && f.stream === 1) toClient.grant(f.credit);
      else conn.destroy();
    });
    conn.send({ type: FrameType.Opened, body: {} });
    const closed = new Promise<void>((resolve) => channel.once('close', () => resolve()));
    Promise.all([pipeline(channel, toClient), closed]).then(
      () => conn.end(),
      () => conn.destroy(),
    );
  }
}

/** The daemon's one relay: offers are claimed on connections other than the one announcing them. */
export const daemonForwards = new ForwardRelay();
