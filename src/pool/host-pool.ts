import type { HostConfig } from '../config/host-config.js';
import { AbortedError, ChannelError, type SshmuxError, translateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { persistTimer } from '../timers.js';
import type { PoolConnection, ResolvedPoolOptions } from './options.js';

/** A channel (or SFTP session) held on one connection; `release()` frees its slot, once. */
export interface Lease<T> {
  readonly value: T;
  readonly connection: PoolConnection;
  release(): void;
}

interface Waiter<T> {
  open: (conn: PoolConnection) => Promise<T>;
  resolve: (lease: Lease<T>) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Times the open was retried because its connection died before the channel opened. */
  retries: number;
  /** Times the server refused this open while nothing else was open on the connection. */
  refusals: number;
}

/** SSH_MSG_CHANNEL_OPEN_FAILURE reasons a server uses when a connection has no session left (MaxSessions). */
const REFUSED = new Set([1, 2, 4]);
/** A not-yet-started open moves to a fresh connection at most this often before failing. */
const MAX_RETRIES = 3;
/**
 * Waits before re-trying an open the server refused while this connection held nothing else:
 * sshd frees a session slot a moment after the client sees the channel close, so a burst of
 * short commands meets brief refusals with no capacity to learn. Nothing ran, so a retry is safe.
 */
const REFUSAL_RETRY_DELAYS_MS = [50, 150, 400];

/**
 * All connections to one HostConfig key. Like undici's Pool: the first connection with a
 * free channel slot takes the next waiter; when none has one and the host is under
 * `maxConnectionsPerHost`, one more connection is opened (one handshake at a time, so a
 * burst never trips sshd's MaxStartups); otherwise the waiter queues. A connection that
 * failed is dropped and never reused.
 */
export class HostPool {
  readonly host: HostConfig;
  readonly #options: ResolvedPoolOptions;
  readonly #log: Logger;
  readonly #persistMs: number;
  readonly #conns: PoolConnection[] = [];
  readonly #idleTimers = new Map<PoolConnection, NodeJS.Timeout>();
  // biome-ignore lint/suspicious/noExplicitAny: waiters of every lease type share one queue
  #waiters: Waiter<any>[] = [];
  #connecting: Promise<PoolConnection> | undefined;
  #closing = false;
  /** Waiters sitting out a refusal delay (neither queued nor running). */
  #delayed = 0;
  #destroyed = false;
  /** Aborts a handshake in progress on destroy(). */
  readonly #lifetime = new AbortController();
  #drainWaiters: (() => void)[] = [];

  /** Told when the last connection is gone and nothing waits: the owner may forget this host. */
  readonly #onEmpty: () => void;

  constructor(host: HostConfig, options: ResolvedPoolOptions, onEmpty: () => void = () => {}) {
    this.host = host;
    this.#options = options;
    this.#onEmpty = onEmpty;
    this.#persistMs =
      host.controlPersistSeconds !== undefined ? host.controlPersistSeconds * 1000 : options.persist;
    this.#log = options.logger.child({ host: this.destination });
  }

  get destination(): string {
    return `${this.host.user}@${this.host.hostname}:${this.host.port}`;
  }

  get queued(): number {
    return this.#waiters.length;
  }

  stats(): { destination: string; connections: number; openChannels: number; capacities: number[] } {
    return {
      destination: this.destination,
      connections: this.#conns.length,
      openChannels: this.#conns.reduce((n, c) => n + c.active, 0),
      capacities: this.#conns.map((c) => c.capacity),
    };
  }

  /** True when nothing runs, waits or connects: the SshPool may forget this host. */
  get isIdle(): boolean {
    return (
      this.#waiters.length === 0 &&
      this.#delayed === 0 &&
      this.#connecting === undefined &&
      this.#conns.every((c) => c.active === 0)
    );
  }

  /** Open something on a channel slot, waiting for one if all are taken. */
  acquire<T>(open: (conn: PoolConnection) => Promise<T>, signal?: AbortSignal): Promise<Lease<T>> {
    if (this.#closing) return Promise.reject(this.#closedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Lease<T>>((resolve, reject) => {
      const waiter: Waiter<T> = {
        open,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        retries: 0,
        refusals: 0,
      };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) {
            this.#waiters.splice(i, 1);
            reject(signal.reason);
            this.#checkDrained();
          }
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  /** Connect if no live connection exists (joining a handshake in progress). */
  async check(signal?: AbortSignal): Promise<void> {
    if (this.#closing) throw this.#closedError();
    if (this.#conns.some((c) => c.isReady)) return;
    const conn = await (this.#connecting ?? this.#connect());
    if (signal?.aborted) throw signal.reason;
    if (!conn.isReady)
      throw new AbortedError('Connection closed right after connecting', { destination: this.destination });
  }

  /**
   * Open a channel on `conn` now, outside the queue (a tracked kill must not wait behind the
   * work it ends), yet counted in its slots while open: an open another caller meets refused
   * meanwhile then sees every channel the server counts, and cannot teach the pool a capacity
   * below the server's MaxSessions.
   */
  async openOutside<T extends NodeJS.EventEmitter>(conn: PoolConnection, open: () => Promise<T>): Promise<T> {
    conn.active++;
    this.#clearIdle(conn);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(conn);
    };
    try {
      const channel = await open();
      channel.once('close', release);
      return channel;
    } catch (err) {
      release();
      throw err;
    }
  }

  #pump(): void {
    if (this.#destroyed) return;
    while (this.#waiters.length > 0) {
      const conn = this.#conns.find((c) => c.isReady && c.active < c.capacity);
      if (!conn) break;
      this.#start(conn, this.#waiters.shift()!);
    }
    if (
      this.#waiters.length > 0 &&
      this.#connecting === undefined &&
      this.#conns.length < this.#options.maxConnectionsPerHost
    ) {
      if (this.#conns.length > 0) this.#log.debug({ connections: this.#conns.length }, 'spill');
      this.#connect().catch(() => {
        // Reported to the waiters in #connect.
      });
    }
  }

  #start<T>(conn: PoolConnection, waiter: Waiter<T>): void {
    conn.active++;
    this.#clearIdle(conn);
    conn.unrefIfIdle();
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.open(conn).then(
      (value) => {
        let released = false;
        waiter.resolve({
          value,
          connection: conn,
          release: () => {
            if (released) return;
            released = true;
            this.#release(conn);
          },
        });
      },
      (err: unknown) => {
        conn.active--;
        const openOthers = conn.active;
        if (
          err instanceof ChannelError &&
          REFUSED.has(err.reason ?? -1) &&
          openOthers > 0 &&
          !conn.isClosed
        ) {
          // The server's MaxSessions: this connection holds what it holds now, no more.
          if (openOthers < conn.capacity) {
            conn.capacity = openOthers;
            this.#log.debug({ conn: conn.id, capacity: openOthers, reason: err.reason }, 'capacity learned');
          }
          this.#requeue(waiter);
        } else if (
          err instanceof ChannelError &&
          REFUSED.has(err.reason ?? -1) &&
          !conn.isClosed &&
          !this.#closing &&
          waiter.refusals < REFUSAL_RETRY_DELAYS_MS.length
        ) {
          const delay = REFUSAL_RETRY_DELAYS_MS[waiter.refusals++]!;
          this.#log.debug(
            { conn: conn.id, reason: err.reason, delay },
            'refused with nothing open; retrying',
          );
          this.#delayed++;
          setTimeout(() => {
            this.#delayed--;
            this.#requeue(waiter);
            this.#pump();
          }, delay);
        } else if (conn.isClosed && waiter.retries < MAX_RETRIES && !this.#closing) {
          // The connection died before the channel opened: nothing ran, so try a fresh one.
          waiter.retries++;
          this.#requeue(waiter);
        } else {
          waiter.reject(translateError(err, this.destination, 'open channel'));
        }
        this.#afterRelease(conn);
      },
    );
  }

  #requeue<T>(waiter: Waiter<T>): void {
    if (waiter.signal?.aborted) {
      waiter.reject(waiter.signal.reason);
      return;
    }
    if (this.#closing) {
      waiter.reject(this.#destroyed ? this.#lifetime.signal.reason : this.#closedError());
      this.#checkDrained();
      return;
    }
    if (waiter.onAbort) waiter.signal?.addEventListener('abort', waiter.onAbort, { once: true });
    this.#waiters.unshift(waiter);
  }

  #release(conn: PoolConnection): void {
    conn.active = Math.max(0, conn.active - 1);
    this.#afterRelease(conn);
  }

  #afterRelease(conn: PoolConnection): void {
    if (conn.active === 0) {
      conn.idleSince = Date.now();
      conn.unrefIfIdle();
    }
    this.#pump();
    if (conn.active === 0 && !conn.isClosed) this.#scheduleIdle(conn);
    this.#checkDrained();
  }

  #connect(): Promise<PoolConnection> {
    const conn = this.#options.connectionFactory(this.host, {
      logger: this.#log,
      hostKeyVerifier: this.#options.hostKeyVerifier,
      authProvider: this.#options.authProvider,
      channelCapacity: this.#options.channelsPerConnection,
    });
    const started = Date.now();
    this.#log.debug({ conn: conn.id }, 'connecting');
    const p = conn.connect(this.#lifetime.signal).then(
      () => {
        this.#connecting = undefined;
        if (this.#destroyed || this.#closing) {
          conn.close();
          this.#checkDrained();
          return conn;
        }
        this.#log.debug({ conn: conn.id, ms: Date.now() - started }, 'connect');
        this.#conns.push(conn);
        conn.onClosed((err) => this.#evict(conn, err));
        this.#pump();
        if (conn.active === 0) this.#scheduleIdle(conn);
        return conn;
      },
      (err: unknown) => {
        this.#connecting = undefined;
        const e = translateError(err, this.destination, 'connect');
        this.#log.debug({ conn: conn.id, err: e }, 'connect failed');
        // With no live connection nobody would ever serve the waiters: fail them all with
        // the handshake's error. Otherwise they keep waiting for a slot on the live ones.
        if (!this.#conns.some((c) => c.isReady)) {
          const waiters = this.#waiters;
          this.#waiters = [];
          for (const w of waiters) {
            if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
            w.reject(e);
          }
        }
        this.#checkDrained();
        throw e;
      },
    );
    this.#connecting = p;
    return p;
  }

  #evict(conn: PoolConnection, err: SshmuxError | undefined): void {
    const i = this.#conns.indexOf(conn);
    if (i < 0) return;
    this.#conns.splice(i, 1);
    this.#clearIdle(conn);
    if (err) this.#log.debug({ conn: conn.id, err, active: conn.active }, 'evict');
    else this.#log.debug({ conn: conn.id }, 'closed');
    this.#pump();
    this.#checkDrained();
  }

  #scheduleIdle(conn: PoolConnection): void {
    this.#clearIdle(conn);
    const close = (): void => {
      this.#idleTimers.delete(conn);
      if (conn.active > 0) return;
      this.#log.debug({ conn: conn.id, persistMs: this.#persistMs }, 'idle close');
      const i = this.#conns.indexOf(conn);
      if (i >= 0) this.#conns.splice(i, 1);
      conn.close();
      this.#checkDrained();
    };
    if (this.#persistMs === 0) {
      close();
      return;
    }
    // Only keeps the connection warm: must never keep the process alive.
    const timer = persistTimer(this.#persistMs, close);
    if (timer) this.#idleTimers.set(conn, timer);
  }

  #clearIdle(conn: PoolConnection): void {
    const t = this.#idleTimers.get(conn);
    if (t) {
      clearTimeout(t);
      this.#idleTimers.delete(conn);
    }
  }

  #closedError(): AbortedError {
    return new AbortedError('The pool is closed', {
      destination: this.destination,
      code: 'SSHMUX_ERR_POOL_CLOSED',
    });
  }

  #checkDrained(): void {
    if (!this.#closing) {
      if (this.#conns.length === 0 && this.isIdle) this.#onEmpty();
      return;
    }
    if (!this.isIdle) return;
    for (const c of this.#conns.splice(0)) {
      this.#clearIdle(c);
      c.close();
    }
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Refuse new work, cancel what waits for a slot, let running channels finish, then close. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) {
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.reject(this.#closedError());
      }
    }
    return new Promise<void>((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#checkDrained();
    });
  }

  /** Stop now: fail waiters and running channels with `err`. */
  destroy(err: SshmuxError): void {
    this.#closing = true;
    this.#destroyed = true;
    this.#lifetime.abort(err);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(err);
    }
    for (const c of this.#conns.splice(0)) {
      this.#clearIdle(c);
      c.destroy(err);
    }
    for (const w of this.#drainWaiters.splice(0)) w();
  }
}
