import type { ClientChannel, SFTPWrapper, ExecOptions as Ssh2ExecOptions } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import type { SessionChannelOptions } from '../connection/agent-forwarding.js';
import {
  type AuthProvider,
  Connection,
  type HostKeyVerifier,
  type SocketFactory,
} from '../connection/connection.js';
import { proxyJumpSocketFactory } from '../connection/proxy-jump.js';
import type { IncomingHandler, RemoteBind, RemoteListener } from '../connection/remote-listeners.js';
import { ConfigError, type SshmuxError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { createAuthProvider } from '../security/auth.js';
import { createHostKeyVerifier } from '../security/verify-host-key.js';
import type { ChannelOrigin } from './channel-target.js';
import { defaultResolver } from './default-resolver.js';

/**
 * What the pool needs from a connection. `Connection` implements it; unit tests pass fakes
 * through `connectionFactory`.
 */
export interface PoolConnection {
  /** Identifier used in logs. */
  readonly id: number;
  /** Channels this connection may hold at once; the pool lowers it when the server refuses one. */
  capacity: number;
  /** Channels open or being opened; maintained by the pool. */
  active: number;
  /** When the connection last became idle (ms since the epoch); the pool closes it `persist` ms later. */
  idleSince: number;
  /** Connected and authenticated. */
  readonly isReady: boolean;
  /** Closed or dead; never reused. */
  readonly isClosed: boolean;
  /** Why it died; undefined while alive or after a clean close. */
  readonly closeError: SshmuxError | undefined;
  /** Connect, verify the host key and authenticate; rejects with a classified `SshmuxError`. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Called once when the connection ends, with the reason when it died. */
  onClosed(listener: (err: SshmuxError | undefined) => void): void;
  /** Let an idle connection stop keeping the process alive. */
  unrefIfIdle(): void;
  /** An `exec` session channel running `command`. */
  exec(command: string, options?: SessionChannelOptions): Promise<ClientChannel>;
  /** A login shell (`shell` request), with the pty and environment `options` carries. */
  shell(options?: SessionChannelOptions): Promise<ClientChannel>;
  /** A subsystem (`subsystem` request, e.g. `sftp`), after the environment requests. */
  subsystem(name: string, options?: Ssh2ExecOptions): Promise<ClientChannel>;
  /** An SFTP session on a new channel. */
  sftp(): Promise<SFTPWrapper>;
  /** Have the server listen for us (remote forwarding); only real connections have it. */
  listen?(bind: RemoteBind, handler: IncomingHandler): Promise<RemoteListener>;
  /** A `direct-tcpip` channel to `host:port` on the server's side, naming `origin` as its originator. */
  forwardOut(host: string, port: number, origin?: ChannelOrigin): Promise<ClientChannel>;
  /** A `direct-streamlocal@openssh.com` channel to a Unix socket on the server. */
  forwardOutStreamLocal(path: string): Promise<ClientChannel>;
  /** Close gracefully; idempotent. */
  close(): void;
  /** Drop the transport now; idempotent. */
  destroy(err?: SshmuxError): void;
}

/** What the pool hands a `ConnectionFactory` for each connection it makes. */
export interface ConnectionFactoryOptions {
  /** The pool's logger. */
  logger: Logger;
  /** The pool's host-key verifier. */
  hostKeyVerifier: HostKeyVerifier;
  /** The pool's authentication provider. */
  authProvider: AuthProvider;
  /** Channels to try before the server refuses one (`channelsPerConnection`). */
  channelCapacity: number;
}

/** Makes one (not yet connected) connection for a host. */
export type ConnectionFactory = (host: HostConfig, options: ConnectionFactoryOptions) => PoolConnection;

/** Turns a destination string into a HostConfig. */
export type DestinationResolver = (dest: string) => HostConfig | Promise<HostConfig>;

/** Options of `new SshPool()`; every one has a default. */
export interface SshPoolOptions {
  /** Operations (exec, spawn, sftp) running at once across all hosts; the rest wait. @default 20 */
  concurrency?: number;
  /** Connections the pool opens to one host at most; past it callers queue. @default 4 */
  maxConnectionsPerHost?: number;
  /** Channels tried per connection before the server says otherwise (OpenSSH MaxSessions is 10). @default 10 */
  channelsPerConnection?: number;
  /** Milliseconds an idle connection stays open; a HostConfig's `controlPersistSeconds` wins. @default 60000 */
  persist?: number;
  /** pino logger; the pool logs connect, spill, capacity and evict at debug level. @default silent */
  logger?: Logger;
  /** @default createHostKeyVerifier() (known_hosts policy) */
  hostKeyVerifier?: HostKeyVerifier;
  /** @default createAuthProvider() (IdentityFile keys, agent) */
  authProvider?: AuthProvider;
  /**
   * Destination string → HostConfig. A HostConfig passed as destination skips it.
   * @default ssh_config resolution (`resolveHostConfig`), `host:port` taken as `-p port`; once per string
   */
  resolve?: DestinationResolver;
  /** Opens transports. @default TCP with TCP_NODELAY, through the HostConfig's ProxyJump hops when it has any */
  socketFactory?: SocketFactory;
  /** Makes connections; for unit tests with fakes. @default real `Connection`s */
  connectionFactory?: ConnectionFactory;
  /**
   * Receives each server's pre-authentication banner (and each ProxyJump hop's), which ssh prints
   * on stderr. @default ignore it
   */
  onBanner?: (message: string, host: HostConfig) => void;
}

/** `SshPoolOptions` validated once, every default filled in, frozen. */
export interface ResolvedPoolOptions {
  /** See `SshPoolOptions.concurrency`. */
  readonly concurrency: number;
  /** See `SshPoolOptions.maxConnectionsPerHost`. */
  readonly maxConnectionsPerHost: number;
  /** See `SshPoolOptions.channelsPerConnection`. */
  readonly channelsPerConnection: number;
  /** See `SshPoolOptions.persist`. */
  readonly persist: number;
  /** See `SshPoolOptions.logger`. */
  readonly logger: Logger;
  /** See `SshPoolOptions.hostKeyVerifier`. */
  readonly hostKeyVerifier: HostKeyVerifier;
  /** See `SshPoolOptions.authProvider`. */
  readonly authProvider: AuthProvider;
  /** See `SshPoolOptions.resolve`. */
  readonly resolve: DestinationResolver;
  /** See `SshPoolOptions.connectionFactory`. */
  readonly connectionFactory: ConnectionFactory;
}

function describe(value: unknown): string {
  return `\`${String(value)}\` (${typeof value})`;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`Expected \`${name}\` to be a number from 1 and up, got ${describe(value)}`);
  }
  return value;
}

function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new ConfigError(`Expected \`${name}\` to be a number from 0 and up, got ${describe(value)}`);
  }
  return value;
}

function fn<T>(name: string, value: unknown, fallback: () => T): T {
  if (value === undefined) return fallback();
  if (typeof value !== 'function') {
    throw new ConfigError(`Expected \`${name}\` to be a function, got ${describe(value)}`);
  }
  return value as T;
}

/** Validate once, at the boundary, into a frozen, fully defaulted object. */
export function normalizePoolOptions(options: SshPoolOptions = {}): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`Expected \`options\` to be an object, got ${describe(options)}`);
  }
  const logger = options.logger ?? silentLogger();
  if (typeof logger.child !== 'function') {
    throw new ConfigError(`Expected \`logger\` to be a pino logger, got ${describe(logger)}`);
  }
  const hostKeyVerifier = fn<HostKeyVerifier>(
    'hostKeyVerifier',
    options.hostKeyVerifier,
    createHostKeyVerifier,
  );
  const authProvider = fn<AuthProvider>('authProvider', options.authProvider, createAuthProvider);
  const onBanner = fn<SshPoolOptions['onBanner']>('onBanner', options.onBanner, () => undefined);
  // ProxyJump hops are verified and authenticated like the target; without hops this is plain TCP.
  const socketFactory = fn<SocketFactory>('socketFactory', options.socketFactory, () =>
    proxyJumpSocketFactory({ hostKeyVerifier, authProvider, logger, ...(onBanner && { onBanner }) }),
  );
  return Object.freeze({
    concurrency: positiveInteger('concurrency', options.concurrency, 20),
    maxConnectionsPerHost: positiveInteger('maxConnectionsPerHost', options.maxConnectionsPerHost, 4),
    channelsPerConnection: positiveInteger('channelsPerConnection', options.channelsPerConnection, 10),
    persist: nonNegative('persist', options.persist, 60_000),
    logger,
    hostKeyVerifier,
    authProvider,
    resolve: fn<DestinationResolver>('resolve', options.resolve, defaultResolver),
    connectionFactory: fn<ConnectionFactory>(
      'connectionFactory',
      options.connectionFactory,
      () => (host, o) =>
        new Connection(host, {
          hostKeyVerifier: o.hostKeyVerifier,
          authProvider: o.authProvider,
          logger: o.logger,
          channelCapacity: o.channelCapacity,
          socketFactory,
          ...(onBanner && { onBanner: (m: string) => onBanner(m, host) }),
        }),
    ),
  });
}
