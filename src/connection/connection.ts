import type net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2, {
  type AnyAuthMethod,
  type ClientChannel,
  type ConnectConfig,
  type ExecOptions,
  type SFTPWrapper,
} from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import {
  AbortedError,
  AuthError,
  ChannelError,
  HostKeyError,
  NetworkError,
  type SshmuxError,
  TimeoutError,
  translateError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { type AuthHandler, explainAuthFailure } from '../security/auth.js';
import { knownHostKeyTypes } from '../security/known-host-types.js';
import { rsaLengthAllowed } from '../security/rsa-size.js';
import { knownInUserFiles, updateHostKeys } from '../security/update-host-keys.js';
import { openWithAgent, type SessionChannelOptions } from './agent-forwarding.js';
import { algorithmsFor, usesKnownHostsOrder } from './algorithms.js';
import { coalesceWrites } from './coalesce-writes.js';
import { Keepalive } from './keepalive.js';
import {
  type IncomingHandler,
  type RemoteBind,
  type RemoteListener,
  RemoteListeners,
} from './remote-listeners.js';
import { requestSubsystem, subsystemRefused } from './subsystem-request.js';
import { connectTcp } from './tcp-socket.js';

// ssh2 is CommonJS; Node's ESM loader does not expose all of its exports by name.
const { Client } = ssh2;

/** Decides whether a server host key is acceptable; throws a `HostKeyError` when it is not. */
export type HostKeyVerifier = (key: Buffer, host: HostConfig, peer?: HostKeyPeer) => Promise<void>;

/** Where the key came from: the address we are connected to, when we made the TCP connection ourselves. */
export interface HostKeyPeer {
  /** The remote IP address (CheckHostIP checks the key under it, as ssh does with its socket's address). */
  readonly address?: string | undefined;
}

/** Lets an auth provider stop the connect deadline while a person answers a prompt. */
export interface AuthHooks {
  /** Stop the connect deadline (a person is being asked). */
  pause(): void;
  /** Start the deadline afresh. */
  resume(): void;
}

/**
 * Produces the authentication for a host: an ordered list of attempts (ssh2 `authHandler`
 * entries), or ssh2's function form, which sees the server's remaining methods.
 */
export type AuthProvider = (host: HostConfig, hooks?: AuthHooks) => Promise<AnyAuthMethod[] | AuthHandler>;

/** Opens the transport for a host: TCP by default, a forwarded channel for ProxyJump. */
export type SocketFactory = (host: HostConfig, signal: AbortSignal) => Promise<Duplex>;

export interface ConnectionOptions {
  hostKeyVerifier: HostKeyVerifier;
  authProvider: AuthProvider;
  logger?: Logger;
  /** @default TCP with TCP_NODELAY to host.hostname:host.port */
  socketFactory?: SocketFactory;
  /** Initial channel capacity before the server tells us otherwise. @default 10 */
  channelCapacity?: number;
  /** Handshake + auth deadline when the config sets no ConnectTimeout. @default 20000 */
  readyTimeoutMs?: number;
  /** Identifier used in logs. */
  id?: number;
  /** The server's pre-authentication banner (SSH_MSG_USERAUTH_BANNER), as ssh prints it on stderr. */
  onBanner?: (message: string) => void;
}

/** Opens the direct TCP connection (ConnectionAttempts, BindAddress, AddressFamily): see tcp-socket.ts. */
export async function tcpSocket(host: HostConfig, signal: AbortSignal): Promise<Duplex> {
  return connectTcp(host, signal);
}

/** Whether `host` is reached by a TCP connect of our own (no ProxyCommand, no jump hops). */
function isDirect(host: HostConfig): boolean {
  return (
    host.proxyCommand === undefined && host.proxyJump.length === 0 && (host.jumpHosts?.length ?? 0) === 0
  );
}

let nextId = 1;
/** How long a graceful close may take before the transport is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/**
 * One authenticated ssh2 client. It counts its open channels against a learned capacity
 * (servers refuse sessions past MaxSessions) and reports its own death once, via `closed`.
 */
export class Connection {
  readonly id: number;
  readonly host: HostConfig;
  /** Channels this connection may hold at once; lowered when the server refuses one. */
  capacity: number;
  /** Channels open or being opened right now. */
  active = 0;
  /** When the connection last went from busy to idle (ms since epoch). */
  idleSince = Date.now();
  readonly #client = new Client();
  readonly #options: ConnectionOptions;
  readonly #log: Logger;
  #state: 'new' | 'connecting' | 'ready' | 'closed' = 'new';
  #closeError: SshmuxError | undefined;
  #closedListeners: ((err: SshmuxError | undefined) => void)[] = [];
  /** Channel opens in flight: failed when the connection closes under them. */
  readonly #pendingOpens = new Set<(err: SshmuxError | undefined) => void>();
  #socket: Duplex | undefined;
  /** The server host key accepted at connect; re-keys must present the same one. */
  #verifiedHostKey: Buffer | undefined;
  #keepalive: Keepalive | undefined;
  /** Whether the server's hostkeys-00 announcement may update known_hosts (UpdateHostKeys). */
  #updateHostKeys = false;
  #peerAddress: string | undefined;
  readonly #listeners: RemoteListeners;

  constructor(host: HostConfig, options: ConnectionOptions) {
    this.id = options.id ?? nextId++;
    this.host = host;
    this.#options = options;
    this.#listeners = new RemoteListeners(this.#client, this.destination);
    this.capacity = options.channelCapacity ?? 10;
    this.#log = (options.logger ?? silentLogger()).child({ conn: this.id });
  }

  get destination(): string {
    return `${this.host.user}@${this.host.hostname}:${this.host.port}`;
  }

  get isReady(): boolean {
    return this.#state === 'ready';
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** Why the connection died; undefined while alive or after a clean close. */
  get closeError(): SshmuxError | undefined {
    return this.#state === 'closed' ? this.#closeError : undefined;
  }

  /** Free slots right now. */
  get available(): number {
    return this.isReady ? Math.max(0, this.capacity - this.active) : 0;
  }

  /** Connect, verify the host key, authenticate. Rejects with a classified error. */
  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'new') throw new Error('Connection.connect() called twice');
    this.#state = 'connecting';
    const host = this.host;
    const timeoutMs = host.connectTimeoutMs ?? this.#options.readyTimeoutMs ?? 20_000;
    const ac = new AbortController();
    // The deadline covers the network (TCP, handshake, auth exchange), not a person answering
    // a host-key question or typing a passphrase: it stops while a verifier or the auth
    // provider runs (either may prompt) and starts afresh after, as OpenSSH's ConnectTimeout.
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms = timeoutMs): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          ac.abort(
            new TimeoutError(`Connection timed out after ${timeoutMs} ms`, { destination: this.destination }),
          ),
        ms,
      );
    };
    const pause = (): void => clearTimeout(timer);
    // ssh bounds each direct connect() by ConnectTimeout, retries ConnectionAttempts times 1 s
    // apart, then gives the banner exchange its own ConnectTimeout: the budget covers them all.
    const direct = isDirect(host);
    const attempts = direct ? (host.connectionAttempts ?? 1) : 1;
    arm(attempts * timeoutMs + (attempts - 1) * 1_000);
    const onOuterAbort = (): void =>
      ac.abort(new AbortedError('Connect aborted', { destination: this.destination }));
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    let hostKeyError: unknown;
    /** Set when the server demands a new password (SSH_MSG_USERAUTH_PASSWD_CHANGEREQ). */
    let changeRequested: AuthError | undefined;
    let auth: AnyAuthMethod[] | AuthHandler | undefined;
    let lastAuth: AnyAuthMethod | undefined;
    let tried = 0;
    try {
      const factory = this.#options.socketFactory ?? tcpSocket;
      this.#socket = await factory(host, ac.signal);
      // Until ssh2 takes the socket (after authentication material and known host key types are
      // read), an error on it (a reset) has no listener and would be an uncaught exception.
      const socket = this.#socket;
      let earlyError: Error | undefined;
      const onEarlyError = (err: Error): void => {
        earlyError ??= err;
      };
      socket.on('error', onEarlyError);
      if (attempts > 1) arm();
      coalesceWrites(this.#socket);
      pause();
      auth = await this.#options.authProvider(host, { pause, resume: arm });
      // An abort that landed meanwhile has no listener yet: honour it before the handshake.
      if (ac.signal.aborted) throw ac.signal.reason;
      arm();
      const methods = auth;
      const keepaliveMs = host.serverAliveInterval > 0 ? host.serverAliveInterval * 1000 : 0;
      this.#keepalive = new Keepalive(
        this.#client,
        this.#socket,
        keepaliveMs,
        host.serverAliveCountMax,
        (silentMs) =>
          this.destroy(
            new NetworkError(`Server not responding: silent for ${silentMs} ms (ServerAliveCountMax)`, {
              destination: this.destination,
              code: 'SSHMUX_ERR_KEEPALIVE',
            }),
          ),
      );
      const config: ConnectConfig = {
        sock: this.#socket as ConnectConfig['sock'],
        username: host.user,
        // ssh2's array handler, plus a note of the method that got us in (for the debug log).
        authHandler:
          typeof methods === 'function'
            ? (left, partial, next) =>
                // ssh2 reads `false` as "no method left" (its types omit it); `left` is null at first.
                methods(left as string[] | null, partial, (m) => {
                  if (m) lastAuth = m;
                  (next as (m: AnyAuthMethod | false) => void)(m);
                })
            : () => {
                const next = methods[tried++];
                if (next === undefined) return false;
                lastAuth = next;
                return next;
              },
        // ssh2's own ready timer cannot pause for a prompt; the deadline above replaces it.
        readyTimeout: 0,
        // Our own keepalive (unref'ed timer) replaces ssh2's, unless this ssh2 lacks what it needs.
        keepaliveInterval: this.#keepalive.supported ? 0 : keepaliveMs,
        keepaliveCountMax: host.serverAliveCountMax,
        algorithms: algorithmsFor(
          host,
          await knownHostKeyTypes(host, { runCommand: usesKnownHostsOrder(host) }),
        ),
        // ssh2 asks again at every re-key, and an asynchronous answer during a re-key resets the
        // connection: the key verified at connect is remembered and later checks answer at once.
        // A different key in mid-connection is refused, as OpenSSH does.
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void): boolean | undefined => {
          if (this.#verifiedHostKey) return key.equals(this.#verifiedHostKey);
          // RequiredRSASize, before anything else looks at the key (sshconnect2.c).
          if (!rsaLengthAllowed(key, host.requiredRsaSize ?? 1024)) {
            hostKeyError = new HostKeyError('Bad server host key: Invalid key length', {
              destination: this.destination,
            });
            return false;
          }
          pause();
          const peer = direct ? { address: (this.#socket as net.Socket | undefined)?.remoteAddress } : {};
          this.#peerAddress = peer.address;
          // UpdateHostKeys needs the key known before this check (sshconnect.c's hostkey_trusted):
          // one only now accepted under accept-new or no does not count; one confirmed at `ask` does.
          const known = host.updateHostKeys ? knownInUserFiles(host, key) : Promise.resolve(false);
          known
            .then(async (before) => {
              await this.#options.hostKeyVerifier(key, host, peer);
              this.#updateHostKeys =
                before || (host.strictHostKeyChecking === 'ask' && (await knownInUserFiles(host, key)));
            })
            .then(
              () => {
                this.#verifiedHostKey = Buffer.from(key);
                arm();
                verify(true);
              },
              (err: unknown) => {
                hostKeyError = err;
                verify(false);
              },
            );
          return undefined;
        },
      };
      if (earlyError !== undefined || socket.destroyed) {
        throw translateError(
          earlyError ??
            new NetworkError('connection closed by the peer before the handshake', {
              destination: this.destination,
            }),
          this.destination,
        );
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#client.end();
          reject(ac.signal.reason);
        };
        ac.signal.addEventListener('abort', onAbort, { once: true });
        this.#client.once('ready', () => {
          ac.signal.removeEventListener('abort', onAbort);
          resolve();
        });
        this.#client.once('error', (err: Error) => {
          ac.signal.removeEventListener('abort', onAbort);
          reject(hostKeyError ?? changeRequested ?? this.#transportCloseReason() ?? err);
        });
        // ssh would ask for the old and a new password here; sshmux does not change passwords,
        // so it says so at once instead of waiting for the deadline.
        this.#client.once('change password', (prompt: string) => {
          changeRequested = new AuthError(
            `${host.user}@${host.hostname}: the server requires a new password (${JSON.stringify(prompt)}); ` +
              'sshmux cannot change passwords: change it with passwd on the server (or with OpenSSH ssh) and retry',
            { destination: this.destination, code: 'SSHMUX_ERR_AUTH_PASSWORD_CHANGE' },
          );
          this.#client.end();
        });
        // A socket closed after the version exchange but before 'ready' makes ssh2 emit only 'close'.
        this.#client.once('close', () => {
          ac.signal.removeEventListener('abort', onAbort);
          reject(
            hostKeyError ??
              changeRequested ??
              this.#transportCloseReason() ??
              new NetworkError('connection closed by the peer during the handshake', {
                destination: this.destination,
              }),
          );
        });
        const onBanner = this.#options.onBanner;
        if (onBanner) this.#client.on('banner', (message: string) => onBanner(message));
        this.#client.connect(config);
        // ssh2 listens to the socket now.
        socket.off('error', onEarlyError);
      });
    } catch (err) {
      this.#state = 'closed';
      // ssh2 can emit a second 'error' for the same failure (a reset, then "Connection lost
      // before handshake" on close): the error is already reported, the rest must not crash the process.
      this.#client.on('error', (e: Error) => this.#log.debug({ err: e }, 'error after failed connect'));
      this.#client.end();
      this.#socket?.destroy();
      const e = ac.signal.aborted ? ac.signal.reason : err;
      const translated =
        e instanceof HostKeyError || e === changeRequested
          ? e
          : explainAuthFailure(translateError(e, this.destination, `connect to ${this.destination}`), auth);
      this.#closeError = translated;
      throw translated;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onOuterAbort);
    }
    this.#state = 'ready';
    this.#log.debug({ host: this.destination, auth: lastAuth?.type }, 'connected');
    // After ready, an error or close means the connection is dead: tell the owner once.
    this.#client.on('error', (err: Error) => {
      this.#closeError ??= translateError(err, this.destination, 'connection lost');
      this.#log.debug({ err }, 'connection error');
    });
    this.#client.once('close', () => this.#markClosed());
    if (this.#updateHostKeys) this.#watchHostKeys();
    if (this.#keepalive?.supported) this.#keepalive.start();
    this.unrefIfIdle();
  }

  /**
   * ssh2 proves every announced key and emits only the proven ones; ssh asks proof only for new
   * keys and needs the whole announcement, so the list ssh2 sends for proving is noted on the way.
   */
  #watchHostKeys(): void {
    const proto = (
      this.#client as unknown as { _protocol?: { openssh_hostKeysProve?: (k: unknown[]) => void } }
    )._protocol;
    const prove = proto?.openssh_hostKeysProve;
    if (!proto || typeof prove !== 'function') return;
    let announced: Buffer[] | undefined;
    proto.openssh_hostKeysProve = (keys: unknown[]) => {
      announced = keys.map((k) => (k as { getPublicSSH(): Buffer }).getPublicSSH());
      prove.call(proto, keys);
    };
    this.#client.once('hostkeys', (keys: { getPublicSSH(): Buffer }[]) => {
      if (announced === undefined) return;
      const ann = { announced, proven: keys.map((k) => k.getPublicSSH()), address: this.#peerAddress };
      void updateHostKeys(this.host, ann, this.#log);
    });
  }

  /** A transport that can say why it ended (a ProxyCommand that exited) explains a failed handshake. */
  #transportCloseReason(): SshmuxError | undefined {
    const sock = this.#socket as
      | { closeReason?: (destination: string) => SshmuxError | undefined }
      | undefined;
    return sock?.closeReason?.(this.destination);
  }

  /** Called once when the connection dies or is closed; `err` undefined for a clean close. */
  onClosed(listener: (err: SshmuxError | undefined) => void): void {
    if (this.#state === 'closed') listener(this.#closeError);
    else this.#closedListeners.push(listener);
  }

  #markClosed(): void {
    if (this.#state === 'closed' && this.#closedListeners.length === 0) return;
    this.#state = 'closed';
    this.#keepalive?.stop();
    this.#listeners.clear();
    // A ProxyCommand that ignores the end of its stdin must not outlive the connection.
    this.#socket?.destroy();
    for (const fail of [...this.#pendingOpens]) fail(this.#closeError);
    this.#pendingOpens.clear();
    const listeners = this.#closedListeners;
    this.#closedListeners = [];
    this.#log.debug({ err: this.#closeError }, 'closed');
    for (const l of listeners) l(this.#closeError);
  }

  /** An idle connection must not keep the process alive; a busy one must. */
  unrefIfIdle(): void {
    const sock = this.#socket as net.Socket | undefined;
    if (!sock || typeof sock.ref !== 'function') return;
    if (this.active === 0) sock.unref();
    else sock.ref();
  }

  /** Open an exec channel. A refusal becomes a `ChannelError` with the server's reason. */
  exec(command: string, options: SessionChannelOptions = {}): Promise<ClientChannel> {
    const { agent, ...rest } = options;
    const open = (extra: ExecOptions) =>
      this.#open<ClientChannel>((cb) => this.#client.exec(command, { ...rest, ...extra }, cb));
    return agent ? openWithAgent(this.#client, agent, open) : open({});
  }

  /** Open a session running the login shell; a pty only when `options.pty` asks for one. */
  shell(options: SessionChannelOptions = {}): Promise<ClientChannel> {
    const { pty, agent, ...rest } = options;
    const open = (extra: ExecOptions) =>
      this.#open<ClientChannel>((cb) =>
        this.#client.shell(pty === true ? {} : pty ? pty : false, { ...rest, ...extra }, cb),
      );
    return agent ? openWithAgent(this.#client, agent, open) : open({});
  }

  /**
   * Open a session running a subsystem, after the pty and env requests ssh sends first.
   * A server without it fails with a `ChannelError` coded `SSHMUX_ERR_SUBSYSTEM`.
   */
  subsystem(name: string, options: ExecOptions = {}): Promise<ClientChannel> {
    return this.#open((cb) =>
      requestSubsystem(this.#client, name, options, (err, channel) =>
        cb(err && subsystemRefused(err, name, this.destination), channel),
      ),
    );
  }

  /** Open an SFTP session on a channel of this connection. */
  sftp(): Promise<SFTPWrapper> {
    return this.#open((cb) => this.#client.sftp(cb));
  }

  /** Forward a TCP connection from the server side (ProxyJump hops, -L, -D, -W). */
  forwardOut(
    host: string,
    port: number,
    origin: { address: string; port: number } = { address: '127.0.0.1', port: 0 },
  ): Promise<ClientChannel> {
    return this.#open((cb) => this.#client.forwardOut(origin.address, origin.port, host, port, cb));
  }

  /** Connect to a Unix socket on the server (`direct-streamlocal@openssh.com`). */
  forwardOutStreamLocal(path: string): Promise<ClientChannel> {
    return this.#open((cb) => this.#client.openssh_forwardOutStreamLocal(path, cb));
  }

  /** Have the server listen for us (remote forwarding); its connections go to `handler` only. */
  listen(bind: RemoteBind, handler: IncomingHandler): Promise<RemoteListener> {
    if (!this.isReady) {
      return Promise.reject(
        this.#closeError ?? new NetworkError('Connection is closed', { destination: this.destination }),
      );
    }
    return this.#listeners.listen(bind, handler);
  }

  #open<T>(start: (cb: (err: Error | undefined, value: T) => void) => void): Promise<T> {
    if (!this.isReady) {
      return Promise.reject(
        this.#closeError ?? new NetworkError('Connection is closed', { destination: this.destination }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // ssh2 can leave the callback uncalled when the connection drops mid-open (e.g. between
      // the channel's confirmation and the subsystem reply): the close settles it instead.
      const onClose = (closeErr: SshmuxError | undefined): void => {
        if (settled) return;
        settled = true;
        reject(
          closeErr ??
            new NetworkError('Connection closed while opening a channel', { destination: this.destination }),
        );
      };
      this.#pendingOpens.add(onClose);
      start((err, value) => {
        this.#pendingOpens.delete(onClose);
        if (settled) return;
        settled = true;
        if (err) {
          const reason = (err as { reason?: number }).reason;
          if (typeof reason === 'number') {
            reject(
              new ChannelError(`Server refused a channel (reason ${reason}): ${err.message}`, {
                destination: this.destination,
                reason,
                cause: err,
              }),
            );
          } else {
            reject(translateError(err, this.destination, 'open channel'));
          }
          return;
        }
        resolve(value);
      });
    });
  }

  /** Close gracefully (SSH disconnect). Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#client.end();
    if (this.#state !== 'ready') this.#markClosed();
    // A transport that does not finish closing (a ProxyCommand that ignores the end of its
    // stdin) is ended after a grace period; unref'ed, so it never keeps the process alive.
    else setTimeout(() => this.#socket?.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Close now, failing whatever runs on it with `err`. Idempotent. */
  destroy(err?: SshmuxError): void {
    this.#closeError ??= err;
    this.#client.destroy();
    this.#socket?.destroy();
    this.#markClosed();
  }
}
