import type { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import type { AgentOpener } from '../connection/agent-forwarding.js';

/** A destination: an ssh_config alias / `[user@]host[:port]` / `ssh://` URL, or a resolved HostConfig. */
export type Destination = string | HostConfig;

/** The terminal a `pty` request describes; ssh2's defaults (`vt100`, 24×80) fill the gaps. */
export interface PtyOptions {
  /** `TERM` for the remote side, as OpenSSH sends the local `$TERM`. */
  term?: string;
  /** Terminal height in rows. */
  rows?: number;
  /** Terminal width in columns. */
  cols?: number;
}

/**
 * What the session channel runs, as ssh's SessionType: a command (`exec`), the user's login
 * shell (`shell`; the command is ignored), or a subsystem named by the command (`subsystem`).
 */
export type SessionKind = 'exec' | 'shell' | 'subsystem';

/** Options shared by `exec` and `spawn`. */
export interface RunOptions {
  /** @default 'exec' */
  kind?: SessionKind;
  /** Environment sent as SSH `env` requests (the server's AcceptEnv decides what it takes). */
  env?: Record<string, string>;
  /** Allocate a pseudo-terminal, optionally with its type and size. @default false */
  pty?: boolean | PtyOptions;
  /**
   * Forward an agent to this session (ssh -A): auth-agent-req@openssh.com, and the agent channels
   * the server opens reach the stream `agent` returns. The server does not say which session an
   * agent channel serves: give such sessions a connection of their own (`agentSessionHost`).
   */
  agent?: AgentOpener;
  /** Milliseconds before the remote process is killed and the call fails with `kind: timeout`. */
  timeout?: number;
  /** Abort kills the remote process and rejects with `kind: aborted`. */
  signal?: AbortSignal;
  /**
   * The receive window this side grants the server for the channel's output, in bytes (2 MiB to
   * 256 MiB). One channel carries at most window ÷ round-trip time: ssh2's and OpenSSH's 2 MiB
   * cap it at ~20 MiB/s over a 100 ms link. A wider window lifts that for what the server sends
   * (a download, a remote `btrfs send`); what a slow reader leaves buffered grows with it.
   * @default 2 MiB
   */
  receiveWindow?: number;
  /** Data for the remote stdin; stdin is closed after it (or immediately when absent, for exec). */
  stdin?: Buffer | string | Readable;
  /**
   * Tag the remote command (`export SSHMUX_JOB=<id>; exec sh -c '…'`) so that kill, `timeout`
   * and `signal` also end it, and what it started, where the server ignores SSH `signal`
   * requests (OpenSSH does for root logins). Needs a POSIX login shell and `/proc` (Linux) on
   * the server; leave it off for forced commands that parse the command (git hosts). @default false
   */
  track?: boolean;
}

export interface ExecOptions extends RunOptions {
  /** Reject with `ExecError` on a non-zero exit or a signal. @default false */
  check?: boolean;
  /** Decode stdout/stderr as UTF-8 strings instead of Buffers. @default false */
  encoding?: 'utf8' | 'buffer';
  /** Cap on captured bytes per stream; past it the call fails with `kind: remote`. @default 64 MiB */
  maxBuffer?: number;
}

/** What `exec` collected: both streams, the exit status and how long it took. */
export interface ExecResult<T extends Buffer | string = Buffer | string> {
  /** Everything the command wrote on stdout (a string with `encoding: 'utf8'`). */
  stdout: T;
  /** Everything the command wrote on stderr (a string with `encoding: 'utf8'`). */
  stderr: T;
  /** Remote exit status, or null when killed by a signal. */
  exitCode: number | null;
  /** Signal name without `SIG` (`TERM`, `KILL`…), or null. */
  signal: string | null;
  /** Milliseconds from the channel's opening to its close. */
  durationMs: number;
}

/** What `spawn` returns: streams that honour backpressure and a promise of the exit status. */
export interface RemoteProcess {
  /** The remote stdin; end it to send EOF. */
  readonly stdin: Writable;
  /** The remote stdout; reading it (or piping it) keeps the channel's window open. */
  readonly stdout: Readable;
  /** The remote stderr; drain it as well as stdout, or the channel stalls. */
  readonly stderr: Readable;
  /** Resolves when the channel closes; rejects only for transport errors (network, aborted, timeout). */
  readonly exited: Promise<{
    /** Remote exit status, or null when killed by a signal. */
    code: number | null;
    /** Signal name without `SIG`, or null. */
    signal: string | null;
  }>;
  /** Send a signal to the remote process (`TERM` by default) and close the channel. */
  kill(signal?: string): void;
  /**
   * Close the channel without a signal, as ssh leaves a session it is done with: the remote
   * command sees EOF on stdin and a closed stdout, and a pty session is hung up by sshd.
   */
  hangUp(): void;
  /** Tell the server the terminal changed size (`window-change`); only meaningful with a pty. */
  resize(size: { rows: number; cols: number }): void;
  /** Start a key re-exchange on the process's connection, as ssh's `~R`. */
  rekey?(): void;
  /** Send a BREAK (RFC 4335) of `lengthMs`, as ssh's `~B`; false when it could not be sent. @default 1000 */
  sendBreak?(lengthMs?: number): boolean;
}

/** A leased SFTP session; `close()` releases its channel slot. */
export interface LeasedSftp extends AsyncDisposable {
  /** ssh2's SFTP session on the pooled connection. */
  readonly sftp: SFTPWrapper;
  /** End the SFTP session and release its channel slot; idempotent. */
  close(): Promise<void>;
}

/** A snapshot of the pool: hosts, connections, channels and waiting requests. */
export interface PoolStats {
  /** Hosts (pool keys) with a host pool. */
  hosts: number;
  /** Open connections over all hosts. */
  connections: number;
  /** Channels open or being opened over all hosts. */
  openChannels: number;
  /** Requests waiting for a channel slot. */
  queued: number;
  /** Per host key: connections and their learned capacities. */
  perHost: {
    /** `user@host:port` of the host pool. */
    destination: string;
    /** Its open connections. */
    connections: number;
    /** Its channels open or being opened. */
    openChannels: number;
    /** The channel capacity each connection learned (the server's MaxSessions). */
    capacities: number[];
  }[];
}

/** The surface features (btrfs, manifest, push, mux) use; `SshPool` implements it. */
export interface RemoteRunner {
  /** Run a command and collect its output (see `SshPool.exec`). */
  exec(dest: Destination, command: readonly string[] | string, options?: ExecOptions): Promise<ExecResult>;
  /** Start a command with streaming stdio (see `SshPool.spawn`). */
  spawn(dest: Destination, command: readonly string[] | string, options?: RunOptions): Promise<RemoteProcess>;
  /** Lease an SFTP session (see `SshPool.sftp`). */
  sftp(dest: Destination, options?: { signal?: AbortSignal }): Promise<LeasedSftp>;
}

export type { AgentOpener } from '../connection/agent-forwarding.js';
export type {
  IncomingConnection,
  IncomingHandler,
  RemoteBind,
  RemoteListener,
} from '../connection/remote-listeners.js';
