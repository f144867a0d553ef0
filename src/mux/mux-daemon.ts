import { randomBytes } from 'node:crypto';
import { chmod, lstat, open, readFile, unlink } from 'node:fs/promises';
import net from 'node:net';
import { LocalError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PoolStats, RemoteRunner } from '../pool/types.js';
import { withLock } from './daemon-lock.js';
import { DaemonSession } from './daemon-session.js';
import type { MuxEndpoint } from './endpoint.js';
import { FramedSocket } from './framed-socket.js';
import { currentSocketPath, forgetSocketPath, freshSocketPath, recordSocketPath } from './pipe-name.js';
import type { ControlMessage, ControlResultMessage } from './protocol.js';

/** The pool as the daemon uses it: run commands, report, close. `SshPool` fits. */
export interface DaemonRunner extends RemoteRunner {
  /** The pool's statistics (for `-O check`). */
  stats(): PoolStats;
  /** Close gracefully when the daemon exits. */
  close(): Promise<void>;
  /** Drop everything now. */
  destroy(err?: unknown): void;
}

/** Options of `new MuxDaemon()`. */
export interface MuxDaemonOptions {
  /** Where to listen (`selectEndpoint()`). */
  endpoint: MuxEndpoint;
  /** What runs the sessions: an `SshPool`. */
  runner: DaemonRunner;
  /** The daemon's sshmux version: clients of another version are refused. */
  version: string;
  /** Where the daemon logs. */
  logger: Logger;
  /** Milliseconds without sessions after which the daemon exits. @default 60000 */
  persistMs?: number;
  /** Current uid, to check the token file's owner; -1 to skip (Windows). */
  uid?: number;
  /** Milliseconds a connection may take to say hello before it is dropped. @default 10000 */
  helloTimeoutMs?: number;
}

/** Node timers overflow past 2^31-1 ms (they would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** True when something accepts connections at `socketPath` (a live daemon, even a busy one). */
export function probe(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A full accept backlog (EAGAIN) is a live daemon under load; anything else is not serving.
      resolve(err.code === 'EAGAIN');
    });
  });
}

/**
 * Read the token, or create it (32 random bytes, hex, mode 0600) if none exists. The token is
 * kept across daemon restarts so a client never races a regenerated one; a token file that
 * others could read, or that is not ours, is refused.
 */
export async function ensureToken(tokenFile: string, uid: number): Promise<string> {
  try {
    const fh = await open(tokenFile, 'wx', 0o600);
    const token = randomBytes(32).toString('hex');
    try {
      await fh.writeFile(token);
    } finally {
      await fh.close();
    }
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new LocalError(`Cannot create the sshmux token file ${tokenFile}`, { cause: err });
    }
  }
  if (uid >= 0) {
    const st = await lstat(tokenFile);
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
      throw new LocalError(`Refusing the sshmux token file ${tokenFile}: not a private file of this user`);
    }
  }
  const token = (await readFile(tokenFile, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(token)) throw new LocalError(`The sshmux token file ${tokenFile} is corrupt`);
  return token;
}

/**
 * The per-user daemon: listens on the endpoint, authenticates clients by token, runs their
 * sessions on one shared pool, and exits after `persistMs` without sessions. Binding and
 * unbinding the socket happen under the lock file, after a probe, so among daemons started at
 * once exactly one listens and a live daemon's socket is never replaced.
 */
export class MuxDaemon {
  readonly #o: Required<MuxDaemonOptions>;
  readonly #server: net.Server;
  readonly #connections = new Set<FramedSocket>();
  #token = '';
  #sessions = 0;
  /** Sessions waiting for a connection, by pool key: who hears that connection's banner. */
  readonly #opening = new Map<string, Set<(text: string) => void>>();
  #accepting = true;
  #listening = false;
  /** What this daemon listens on: the Unix socket, or its own generation of the pipe name. */
  #socketPath = '';
  #idleTimer: NodeJS.Timeout | undefined;
  #persistMs: number;
  #stopped: Promise<void> | undefined;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(options: MuxDaemonOptions) {
    this.#o = { persistMs: 60_000, uid: process.getuid?.() ?? -1, helloTimeoutMs: 10_000, ...options };
    this.#persistMs = Math.min(this.#o.persistMs, MAX_TIMER_MS);
    this.#server = net.createServer((socket) => this.#onConnection(socket));
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Resolves when the daemon has shut down (idle, `-O exit`, or `-O stop` and the last session ended). */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Bind the endpoint. `already-running` when another daemon serves it (this one then does nothing). */
  async start(): Promise<'listening' | 'already-running'> {
    const ep = this.#o.endpoint;
    const result = await withLock(ep.lockFile, async () => {
      const current = await currentSocketPath(ep);
      if (current !== undefined && (await probe(current))) return 'already-running' as const;
      const socketPath = freshSocketPath(ep);
      if (!ep.isNamedPipe) await unlink(socketPath).catch(() => {});
      this.#token = await ensureToken(ep.tokenFile, this.#o.uid);
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(socketPath, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
      if (!ep.isNamedPipe) await chmod(socketPath, 0o600).catch(() => {});
      await recordSocketPath(ep, socketPath);
      this.#socketPath = socketPath;
      await unlink(ep.spawnFile).catch(() => {});
      return 'listening' as const;
    });
    if (result === 'listening') {
      this.#listening = true;
      this.#o.logger.info({ pid: process.pid, socket: this.#socketPath }, 'daemon listening');
      this.#armIdle();
    } else {
      this.#resolveDone();
    }
    return result;
  }

  /**
   * A connection to `poolKey` had something to say to its user (the server's banner): the
   * sessions waiting for it get it, as ssh prints it on the terminal of whoever is connecting.
   */
  notice(poolKey: string, text: string): void {
    for (const send of this.#opening.get(poolKey) ?? []) send(text);
  }

  /** Extend the idle time to at least `ms` (a request's ControlPersist). */
  persistAtLeast(ms: number): void {
    if (ms > this.#persistMs) this.#persistMs = Math.min(ms, MAX_TIMER_MS);
  }

  #onConnection(socket: net.Socket): void {
    const conn = new FramedSocket(socket);
    this.#connections.add(conn);
    this.#disarmIdle();
    conn.onClose(() => {
      this.#connections.delete(conn);
      this.#maybeIdle();
    });
    new DaemonSession(conn, {
      token: this.#token,
      version: this.#o.version,
      logger: this.#o.logger,
      runner: this.#o.runner,
      helloTimeoutMs: this.#o.helloTimeoutMs,
      accepting: () => this.#accepting,
      control: (m) => this.#control(m),
      // Act once the client has read the reply (it closes), or soon anyway.
      afterControl: (m) => {
        const timer = setTimeout(() => conn.destroy(), 1_000);
        conn.onClose(() => {
          clearTimeout(timer);
          this.#afterControl(m);
        });
      },
      sessionStarted: () => {
        this.#sessions++;
      },
      opening: (host, notice) => {
        const listeners = this.#opening.get(host.poolKey) ?? new Set<(text: string) => void>();
        this.#opening.set(host.poolKey, listeners);
        listeners.add(notice);
        return () => {
          listeners.delete(notice);
          if (listeners.size === 0) this.#opening.delete(host.poolKey);
        };
      },
      hostRequested: (host) => {
        if (typeof host.controlPersistSeconds === 'number')
          this.persistAtLeast(host.controlPersistSeconds * 1000);
      },
      sessionEnded: () => {
        this.#sessions--;
        this.#maybeIdle();
      },
    });
  }

  #control(m: ControlMessage): ControlResultMessage {
    const result: ControlResultMessage = {
      pid: process.pid,
      version: this.#o.version,
      sessions: this.#sessions,
      accepting: this.#accepting && m.op === 'check',
    };
    if (m.op === 'check' && m.destination) {
      const stats = this.#o.runner.stats();
      result.connections = stats.perHost
        .filter((h) => h.destination === m.destination)
        .reduce((n, h) => n + h.connections, 0);
    }
    return result;
  }

  #afterControl(m: ControlMessage): void {
    if (m.op === 'exit') void this.shutdown('exit requested');
    else if (m.op === 'stop') void this.stopAccepting();
  }

  /** `-O stop`: release the endpoint so a new daemon can start, finish running sessions, then exit. */
  async stopAccepting(): Promise<void> {
    this.#accepting = false;
    await this.#unbind();
    this.#maybeIdle();
  }

  #disarmIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #armIdle(): void {
    this.#disarmIdle();
    this.#idleTimer = setTimeout(() => void this.#onIdle(), this.#persistMs);
  }

  #maybeIdle(): void {
    if (this.#sessions > 0 || this.#connections.size > 0) return;
    if (!this.#accepting) void this.shutdown('stopped and idle');
    else this.#armIdle();
  }

  async #onIdle(): Promise<void> {
    if (this.#sessions > 0 || this.#connections.size > 0) return;
    await this.shutdown(`idle for ${this.#persistMs} ms`);
  }

  async #unbind(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    // Under the lock: a daemon starting now must not bind between our close and its probe.
    // close() stops listening (and removes the socket file) at once; its callback would wait
    // for every open connection, which the caller may be about to end.
    await withLock(this.#o.endpoint.lockFile, async () => {
      await forgetSocketPath(this.#o.endpoint, this.#socketPath).catch(() => {});
      this.#server.close();
    }).catch((err: unknown) => {
      this.#o.logger.warn({ err }, 'closing the listener without the lock');
      this.#server.close();
    });
  }

  /** Stop now: unbind, end every session, close the pool. Idempotent. */
  shutdown(reason: string): Promise<void> {
    this.#stopped ??= (async () => {
      this.#o.logger.info({ reason }, 'daemon exiting');
      this.#accepting = false;
      this.#disarmIdle();
      await this.#unbind();
      for (const c of this.#connections) c.destroy();
      this.#o.runner.destroy();
      await this.#o.runner.close().catch(() => {});
      this.#resolveDone();
    })();
    return this.#stopped;
  }
}
