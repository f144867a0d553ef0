// The public surface of sshmux: explicit named exports only.

export type { HostConfig, PlainHostOptions, StrictHostKeyChecking } from './config/host-config.js';
export { plainHostConfig } from './config/plain.js';
export type { AuthProvider, HostKeyVerifier, SocketFactory } from './connection/connection.js';
export {
  AbortedError,
  AuthError,
  ChannelError,
  ConfigError,
  type ErrorKind,
  ExecError,
  type ExecFailure,
  HostKeyError,
  isSshmuxError,
  LocalError,
  NetworkError,
  RemoteError,
  SshmuxError,
  type SshmuxErrorOptions,
  TimeoutError,
  VerifyError,
} from './errors.js';
export type { Logger } from './logger.js';
export type {
  ConnectionFactory,
  ConnectionFactoryOptions,
  DestinationResolver,
  PoolConnection,
  SshPoolOptions,
} from './pool/options.js';
export { SshPool } from './pool/ssh-pool.js';
export type {
  Destination,
  ExecOptions,
  ExecResult,
  LeasedSftp,
  PoolStats,
  RemoteProcess,
  RemoteRunner,
  RunOptions,
} from './pool/types.js';
export { type RetryPolicy, withRetry } from './pool/with-retry.js';
export { quoteArg, shellCommand } from './quote.js';
