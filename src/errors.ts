/**
 * The one error family of sshmux. Every foreign error (ssh2, sockets, child processes,
 * the file system) is translated into one of these where it enters the library; code
 * further up decides from `kind` and `retryable`, never from message text.
 */

/** What went wrong, in terms a caller can act on. */
export type ErrorKind =
  | 'auth'
  | 'host-key'
  | 'network'
  | 'timeout'
  | 'channel'
  | 'remote'
  | 'config'
  | 'verify'
  | 'local'
  | 'aborted';

/** Options of every `SshmuxError` constructor. */
export interface SshmuxErrorOptions {
  /** Stable machine-readable code, e.g. `SSHMUX_ERR_AUTH`. */
  code?: string;
  /** `user@host:port` or alias the operation was aimed at. */
  destination?: string | undefined;
  /** The error this one translates or wraps (kept as `error.cause`). */
  cause?: unknown;
  /** Overrides the kind's default retryability. */
  retryable?: boolean;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorKind> = new Set(['network', 'timeout', 'channel']);

/** Base class: stable `code`, a `kind`, `retryable`, the destination and the chained `cause`. */
export class SshmuxError extends Error {
  /** Stable machine-readable code (`SSHMUX_ERR_AUTH`, `SSHMUX_ERR_CONNECT`…): decide on this, never on the message. */
  readonly code: string;
  /** What went wrong, in terms a caller can act on. */
  readonly kind: ErrorKind;
  /** Whether trying again may succeed (network, timeout and channel failures by default). */
  readonly retryable: boolean;
  /** `user@host:port` or the alias the operation was aimed at, when there was one. */
  readonly destination: string | undefined;

  constructor(kind: ErrorKind, message: string, options: SshmuxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = options.code ?? `SSHMUX_ERR_${kind.toUpperCase().replace('-', '_')}`;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(kind);
    this.destination = options.destination;
  }
}

/** Authentication refused: terminal. */
export class AuthError extends SshmuxError {
  /** What was offered (key fingerprints, "agent"), never secret material. */
  readonly tried: readonly string[];
  constructor(message: string, options: SshmuxErrorOptions & { tried?: readonly string[] } = {}) {
    super('auth', message, { code: 'SSHMUX_ERR_AUTH', ...options, retryable: false });
    this.tried = options.tried ?? [];
  }
}

/** The server's host key is unknown under a refusing policy, changed, or revoked: terminal. */
export class HostKeyError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('host-key', message, { code: 'SSHMUX_ERR_HOST_KEY', ...options, retryable: false });
  }
}

/** TCP or SSH transport failure: connection refused, reset, dropped, dead peer. */
export class NetworkError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('network', message, { code: 'SSHMUX_ERR_NETWORK', ...options });
  }
}

/** A deadline passed (connect, operation, stall). */
export class TimeoutError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('timeout', message, { code: 'SSHMUX_ERR_TIMEOUT', ...options });
  }
}

/** The server refused or failed to open a channel. */
export class ChannelError extends SshmuxError {
  /** SSH_MSG_CHANNEL_OPEN_FAILURE reason code when known (1 prohibited, 2 connect failed, 4 resource). */
  readonly reason: number | undefined;
  constructor(message: string, options: SshmuxErrorOptions & { reason?: number } = {}) {
    super('channel', message, { code: 'SSHMUX_ERR_CHANNEL', ...options });
    this.reason = options.reason;
  }
}

/** A remote program failed. */
export class RemoteError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('remote', message, {
      code: 'SSHMUX_ERR_REMOTE',
      ...options,
      retryable: options.retryable ?? false,
    });
  }
}

/** An SFTP request answered with a STATUS other than OK; `status` is the SSH_FX_* code, the message names the path. */
export class SftpStatusError extends RemoteError {
  /** The SSH_FX_* status code the server answered (2 no such file, 3 permission denied, 4 failure…). */
  readonly status: number;
  constructor(message: string, status: number, options: SshmuxErrorOptions = {}) {
    super(message, { code: 'SSHMUX_ERR_SFTP', ...options });
    this.status = status;
  }
}

/** Result of a remote command that exited non-zero (or by signal) under `check: true`. */
export interface ExecFailure {
  /** The command line as sent to the server. */
  command: string;
  /** Remote exit status, or null when the command was killed by a signal. */
  exitCode: number | null;
  /** Signal name without `SIG` (`TERM`, `KILL`…), or null. */
  signal: string | null;
  /** What the command wrote on stderr (decoded as UTF-8). */
  stderr: string;
  /** Milliseconds from the channel's opening to its close. */
  durationMs: number;
}

/** A remote command failed under `check: true`: carries the whole result, like execa. */
export class ExecError extends RemoteError {
  /** The command line as sent to the server. */
  readonly command: string;
  /** Remote exit status, or null when the command was killed by a signal. */
  readonly exitCode: number | null;
  /** Signal name without `SIG` (`TERM`, `KILL`…), or null. */
  readonly signal: string | null;
  /** What the command wrote on stderr (decoded as UTF-8); the message ends with its last lines. */
  readonly stderr: string;
  /** Milliseconds from the channel's opening to its close. */
  readonly durationMs: number;
  constructor(result: ExecFailure, options: SshmuxErrorOptions = {}) {
    const how = result.signal
      ? `was killed by signal ${result.signal}`
      : `exited with code ${result.exitCode}`;
    const tail = result.stderr.trim().split('\n').slice(-5).join('\n');
    super(`Remote command ${how}: ${result.command}${tail ? `\n${tail}` : ''}`, {
      code: 'SSHMUX_ERR_EXEC',
      ...options,
    });
    this.command = result.command;
    this.exitCode = result.exitCode;
    this.signal = result.signal;
    this.stderr = result.stderr;
    this.durationMs = result.durationMs;
  }
}

/** Bad configuration or options: names the file and line or the option and value. */
export class ConfigError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('config', message, { code: 'SSHMUX_ERR_CONFIG', ...options, retryable: false });
  }
}

/** A verification (manifest, UUID, checksum) did not hold. */
export class VerifyError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('verify', message, { code: 'SSHMUX_ERR_VERIFY', ...options, retryable: false });
  }
}

/** A local failure: file missing, not readable, local child process failed. */
export class LocalError extends SshmuxError {
  constructor(message: string, options: SshmuxErrorOptions = {}) {
    super('local', message, { code: 'SSHMUX_ERR_LOCAL', ...options, retryable: options.retryable ?? false });
  }
}

/** The caller aborted (AbortSignal) or the pool was closed under the operation. */
export class AbortedError extends SshmuxError {
  constructor(message = 'The operation was aborted', options: SshmuxErrorOptions = {}) {
    super('aborted', message, { code: 'SSHMUX_ERR_ABORTED', ...options, retryable: false });
  }
}

/** Whether `err` is one of sshmux's errors (a `SshmuxError` of any kind). */
export function isSshmuxError(err: unknown): err is SshmuxError {
  return err instanceof SshmuxError;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Translate an error raised by ssh2 or a socket into the sshmux family. ssh2 marks its
 * errors with `level` (`client-authentication`, `client-timeout`, `client-socket`,
 * `protocol`, `handshake`); sockets carry errno `code`s. This is the only place those are read.
 */
export function translateError(err: unknown, destination?: string, context = ''): SshmuxError {
  if (err instanceof SshmuxError) return err;
  const e = err as { level?: string; code?: string; message?: string; reason?: number } | undefined;
  const msg = e?.message ?? String(err);
  const prefix = context ? `${context}: ` : '';
  const where = destination ? ` (${destination})` : '';
  if (e?.level === 'client-authentication') {
    return new AuthError(`${prefix}authentication failed${where}: ${msg}`, { destination, cause: err });
  }
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') {
    return new TimeoutError(`${prefix}timed out${where}: ${msg}`, { destination, cause: err });
  }
  if (e?.code === 'ABORT_ERR' || (err as Error | undefined)?.name === 'AbortError') {
    return new AbortedError(`${prefix}aborted${where}`, { destination, cause: err });
  }
  if (typeof e?.reason === 'number') {
    return new ChannelError(`${prefix}channel open failed${where}: ${msg}`, {
      destination,
      cause: err,
      reason: e.reason,
    });
  }
  if (
    e?.level === 'client-socket' ||
    e?.level === 'protocol' ||
    e?.level === 'handshake' ||
    (e?.code && NETWORK_CODES.has(e.code))
  ) {
    return new NetworkError(`${prefix}connection failed${where}: ${msg}`, { destination, cause: err });
  }
  if (e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EISDIR') {
    return new LocalError(`${prefix}${msg}`, { destination, cause: err });
  }
  return new NetworkError(`${prefix}${msg}${where}`, { destination, cause: err, code: 'SSHMUX_ERR_UNKNOWN' });
}
