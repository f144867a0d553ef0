import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import type { HostConfig } from '../config/host-config.js';
import { assertConnectable } from '../config/keyword-support.js';
import { checkReceiveWindow, widenReceiveWindow } from '../connection/receive-window.js';
import type { IncomingHandler, RemoteBind, RemoteListener } from '../connection/remote-listeners.js';
import { AbortedError, ConfigError, ExecError, type SshmuxError, translateError } from '../errors.js';
import { shellCommand } from '../quote.js';
import { type ChannelOrigin, type ChannelTarget, channelTarget } from './channel-target.js';
import { collectOutput, DEFAULT_MAX_BUFFER } from './collect-output.js';
import { ExecManyRun } from './exec-many.js';
import type { ExecManyOptions } from './exec-many-options.js';
import { type LeasedChannel, leaseChannel, openForward } from './forward-channel.js';
import { GlobalLimit } from './global-limit.js';
import { type HeldConnection, heldConnection } from './held-connection.js';
import { HostPool, type Lease } from './host-pool.js';
import {
  normalizePoolOptions,
  type PoolConnection,
  type ResolvedPoolOptions,
  type SshPoolOptions,
} from './options.js';
import { newJobId, tagCommand } from './remote-kill.js';
import { ChannelProcess } from './remote-process.js';
import type {
  AgentOpener,
  Destination,
  ExecOptions,
  ExecResult,
  LeasedSftp,
  PoolStats,
  PtyOptions,
  RemoteProcess,
  RemoteRunner,
  RunOptions,
} from './types.js';

/** Validate a `pty` option; `true` asks for ssh2's defaults. */
function ptyRequest(pty: true | PtyOptions): true | PtyOptions {
  if (pty === true) return true;
  if (typeof pty !== 'object' || pty === null) {
    throw new ConfigError(`Expected \`pty\` to be a boolean or { term, rows, cols }, got \`${String(pty)}\``);
  }
  const { term, rows, cols } = pty;
  if (term !== undefined && (typeof term !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(term))) {
    throw new ConfigError(
      `Expected \`pty.term\` to be a terminal name like xterm-256color, got ${JSON.stringify(term)}`,
    );
  }
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 10_000)) {
      throw new ConfigError(
        `Expected \`pty.${name}\` to be an integer from 1 to 10000, got \`${String(v)}\``,
      );
    }
  }
  return {
    ...(term !== undefined && { term }),
    ...(rows !== undefined && { rows }),
    ...(cols !== undefined && { cols }),
  };
}

function agentOpener(agent: AgentOpener): AgentOpener {
  if (typeof agent !== 'function') {
    throw new ConfigError(`Expected \`agent\` to be a function returning a stream, got \`${String(agent)}\``);
  }
  return agent;
}

function destinationOf(host: HostConfig): string {
  return `${host.user}@${host.hostname}:${host.port}`;
}

/**
 * The in-process ControlMaster: authenticated connections per destination, many channels
 * multiplexed over each, spilling to another connection when a server refuses a channel,
 * queueing past `maxConnectionsPerHost`. `close()` drains, `destroy()` stops now.
 */
export class SshPool implements RemoteRunner, AsyncDisposable {
  /** The options as validated, with their defaults. */
  readonly options: ResolvedPoolOptions;
  readonly #hosts = new Map<string, HostPool>();
  readonly #limit: GlobalLimit;
  /** Aborted by close()/destroy(): cancels everything still waiting for a permit. */
  readonly #lifetime = new AbortController();
  #closing: Promise<void> | undefined;
  #destroyed = false;

  constructor(options: SshPoolOptions = {}) {
    this.options = normalizePoolOptions(options);
    this.#limit = new GlobalLimit(this.options.concurrency);
    // Every waiting operation listens on this signal (and stops listening once it runs):
    // hundreds at once is the design, not a leak, so Node's 10-listener warning must not fire.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** True once `close()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#lifetime.signal.aborted;
  }

  /** Run a command and capture its output. A non-zero exit is a result unless `check: true`. */
  exec(
    dest: Destination,
    command: readonly string[] | string,
    options: ExecOptions & { encoding: 'utf8' },
  ): Promise<ExecResult<string>>;
  exec(
    dest: Destination,
    command: readonly string[] | string,
    options?: ExecOptions & { encoding?: 'buffer' },
  ): Promise<ExecResult<Buffer>>;
  exec(dest: Destination, command: readonly string[] | string, options?: ExecOptions): Promise<ExecResult>;
  async exec(
    dest: Destination,
    command: readonly string[] | string,
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    if (typeof maxBuffer !== 'number' || !(maxBuffer >= 0)) {
      throw new ConfigError(
        `Expected \`maxBuffer\` to be a number from 0 and up, got \`${String(maxBuffer)}\` (${typeof maxBuffer})`,
      );
    }
    const started = Date.now();
    const proc = await this.#spawn(dest, command, options, true);
    const result = await collectOutput(proc.process, {
      maxBuffer,
      encoding: options.encoding ?? 'buffer',
      destination: proc.destination,
      started,
    });
    if (options.check && (result.exitCode !== 0 || result.signal !== null)) {
      throw new ExecError(
        {
          command: proc.process.command,
          exitCode: result.exitCode,
          signal: result.signal,
          stderr: result.stderr.toString(),
          durationMs: result.durationMs,
        },
        { destination: proc.destination },
      );
    }
    return result;
  }

  /**
   * Run one command on many hosts: at most `concurrency` at once, connection attempts bounded
   * (`connectConcurrency`) and staggered so no server's or bastion's MaxStartups is reached.
   * `for await (const r of run)` yields each host's result as it ends; `run.summary()` all of them.
   */
  execMany(
    hosts: readonly Destination[],
    command: readonly string[] | string,
    options: ExecManyOptions & { encoding: 'utf8' },
  ): ExecManyRun<string>;
  execMany(
    hosts: readonly Destination[],
    command: readonly string[] | string,
    options?: ExecManyOptions & { encoding?: 'buffer' },
  ): ExecManyRun<Buffer>;
  execMany(
    hosts: readonly Destination[],
    command: readonly string[] | string,
    options?: ExecManyOptions,
  ): ExecManyRun;
  execMany(
    hosts: readonly Destination[],
    command: readonly string[] | string,
    options: ExecManyOptions = {},
  ): ExecManyRun {
    return new ExecManyRun(hosts, command, options, {
      check: (dest, signal) => this.check(dest, signal ? { signal } : {}),
      spawn: (dest, cmd, opts) => this.#spawn(dest, cmd, opts, true),
    });
  }

  /** Start a command; its streams honour backpressure and `exited` settles when the channel closes. */
  async spawn(
    dest: Destination,
    command: readonly string[] | string,
    options: RunOptions = {},
  ): Promise<RemoteProcess> {
    return (await this.#spawn(dest, command, options, false)).process;
  }

  async #spawn(
    dest: Destination,
    command: readonly string[] | string,
    options: RunOptions,
    endStdin: boolean,
  ): Promise<{ process: ChannelProcess; destination: string }> {
    const cmd = shellCommand(command);
    const jobId = options.track ? newJobId() : undefined;
    const { timeout } = options;
    if (
      timeout !== undefined &&
      (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout))
    ) {
      throw new ConfigError(
        `Expected \`timeout\` to be a positive number of milliseconds, got \`${String(timeout)}\` (${typeof timeout})`,
      );
    }
    const ssh2Options = {
      ...(options.env && { env: options.env }),
      ...(options.pty && { pty: ptyRequest(options.pty) }),
      ...(options.agent && { agent: agentOpener(options.agent) }),
    };
    const receiveWindow =
      options.receiveWindow === undefined ? undefined : checkReceiveWindow(options.receiveWindow);
    const kind = options.kind ?? 'exec';
    if (kind !== 'exec' && kind !== 'shell' && kind !== 'subsystem') {
      throw new ConfigError(`Expected \`kind\` to be exec, shell or subsystem, got \`${String(kind)}\``);
    }
    if (kind === 'subsystem' && options.agent) throw new ConfigError('`agent` needs `kind: exec` or `shell`');
    if (kind !== 'exec' && jobId) throw new ConfigError('`track` needs `kind: exec` (it wraps the command)');
    const { lease, release, destination, hostPool } = await this.#lease(dest, options.signal, (conn) =>
      kind === 'shell'
        ? conn.shell(ssh2Options)
        : kind === 'subsystem'
          ? conn.subsystem(cmd, ssh2Options)
          : conn.exec(jobId ? tagCommand(cmd, jobId) : cmd, ssh2Options),
    );
    if (receiveWindow !== undefined) widenReceiveWindow(lease.value, receiveWindow);
    const proc = new ChannelProcess(lease.value, {
      command: cmd,
      destination,
      timeout: options.timeout,
      signal: options.signal,
      connection: lease.connection,
      onClose: release,
      job: jobId
        ? { id: jobId, open: (c) => hostPool.openOutside(lease.connection, () => lease.connection.exec(c)) }
        : undefined,
    });
    const stdin = options.stdin;
    if (stdin !== undefined) {
      const source =
        typeof stdin === 'string' || Buffer.isBuffer(stdin) ? Readable.from([Buffer.from(stdin)]) : stdin;
      // Not pipeline(): it would destroy the channel on a source error, which closes it without
      // signalling, and OpenSSH leaves a command without a pty running when its channel closes.
      source.once('error', (err) => proc.fail(translateError(err, destination, 'stdin')));
      source.pipe(proc.stdin);
    } else if (endStdin) {
      proc.stdin.end();
    }
    return { process: proc, destination };
  }

  /** A leased SFTP session; `close()` (or `await using`) releases its channel slot. */
  async sftp(dest: Destination, options: { signal?: AbortSignal } = {}): Promise<LeasedSftp> {
    const { lease, release, destination } = await this.#lease(dest, options.signal, (conn) => conn.sftp());
    const sftp = lease.value;
    // The session may end on its own (server, dead connection): that frees the slot too.
    let gone = false;
    const ended = new Promise<void>((resolve) =>
      sftp.once('close', () => {
        gone = true;
        release();
        resolve();
      }),
    );
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      if (!closing) {
        if (!gone) sftp.end();
        closing = ended;
      }
      return closing;
    };
    if (options.signal?.aborted) {
      await close();
      throw this.#abortError(options.signal.reason, options.signal, destination);
    }
    return { sftp, close, [Symbol.asyncDispose]: close };
  }

  /**
   * Have the server listen on `bind` and hand each connection it accepts to `handler` (ssh -R).
   * The listener holds a channel slot of its connection, so the connection stays open while it
   * lives; `close()` cancels it on the server and frees the slot.
   */
  async listen(
    dest: Destination,
    bind: RemoteBind,
    handler: IncomingHandler,
    options: { signal?: AbortSignal } = {},
  ): Promise<RemoteListener> {
    // No global permit either: a listener lives as long as its session (see openChannel).
    const { lease, release } = await this.#lease(
      dest,
      options.signal,
      (conn) => {
        if (conn.listen === undefined) throw new ConfigError('this connection cannot listen on the server');
        return conn.listen(bind, handler);
      },
      false,
    );
    // A connection that dies takes the listener with it: the slot is free then too.
    lease.connection.onClosed(release);
    const listener = lease.value;
    return {
      port: listener.port,
      close: async () => {
        await listener.close();
        release();
      },
    };
  }

  /**
   * A forwarding channel to `target` on the server's side (what ssh's -L, -D and -W open),
   * leased like an exec channel: it counts toward its connection's channels until it closes.
   */
  async openChannel(
    dest: Destination,
    target: ChannelTarget,
    options: { origin?: ChannelOrigin; signal?: AbortSignal } = {},
  ): Promise<LeasedChannel> {
    const to = channelTarget(target);
    // No global permit: a forwarded connection lives as long as a client outside sshmux keeps it
    // open (a browser behind -D holds dozens), so only channel slots bound it, not `concurrency`.
    const { lease, release, destination } = await this.#lease(
      dest,
      options.signal,
      (conn) => openForward(conn, to, options.origin),
      false,
    );
    return leaseChannel(lease.value, release, destination);
  }

  /**
   * Keep a connection to `dest` open with no session on it (ssh -N) until `release()`. It takes
   * a slot on the connection but no global permit: holding does no work, and may last for days.
   */
  async hold(dest: Destination, options: { signal?: AbortSignal } = {}): Promise<HeldConnection> {
    const config = await this.#config(dest);
    const destination = destinationOf(config);
    const lease = await this.#hostPool(config)
      .acquire(async (conn) => conn, options.signal)
      .catch((err: unknown) => {
        throw this.#abortError(err, options.signal, destination);
      });
    return heldConnection(lease.value, () => lease.release(), destination);
  }

  /** Connect to `dest`, or confirm a live connection exists. */
  async check(dest: Destination, options: { signal?: AbortSignal } = {}): Promise<void> {
    const config = await this.#config(dest);
    await this.#hostPool(config).check(options.signal);
  }

  /** A snapshot of hosts, connections, open channels and queued requests. */
  stats(): PoolStats {
    const perHost = [...this.#hosts.values()].map((h) => h.stats());
    return {
      hosts: perHost.length,
      connections: perHost.reduce((n, h) => n + h.connections, 0),
      openChannels: perHost.reduce((n, h) => n + h.openChannels, 0),
      queued: this.#limit.waiting + [...this.#hosts.values()].reduce((n, h) => n + h.queued, 0),
      perHost,
    };
  }

  /** Refuse new work and cancel queued work, let running work finish, then close every connection. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#lifetime.abort(this.#closedError());
      this.#closing = Promise.all([...this.#hosts.values()].map((h) => h.close())).then(() => undefined);
    }
    return this.#closing;
  }

  /** Stop now: everything queued or running fails with `err` (an `AbortedError` by default). Idempotent. */
  destroy(err?: SshmuxError): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const reason = err ?? new AbortedError('The pool was destroyed', { code: 'SSHMUX_ERR_POOL_CLOSED' });
    if (!this.#lifetime.signal.aborted) this.#lifetime.abort(reason);
    this.#closing ??= Promise.resolve();
    for (const h of this.#hosts.values()) h.destroy(reason);
  }

  /** `await using pool = new SshPool()`: `close()` when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #closedError(): AbortedError {
    return new AbortedError('The pool is closed', { code: 'SSHMUX_ERR_POOL_CLOSED' });
  }

  async #config(dest: Destination): Promise<HostConfig> {
    if (this.closed) throw this.#closedError();
    let config: HostConfig;
    if (typeof dest === 'string') {
      config = await this.options.resolve(dest);
    } else if (typeof dest === 'object' && dest !== null && typeof dest.poolKey === 'string') {
      config = dest;
    } else {
      throw new ConfigError(
        `Expected a destination string or HostConfig, got \`${String(dest)}\` (${typeof dest})`,
      );
    }
    if (this.closed) throw this.#closedError();
    // A HostConfig from resolveHostConfig may ask for what sshmux cannot do: refuse it here, so
    // library callers get the same refusal as `sshmux ssh`.
    assertConnectable(config);
    return config;
  }

  /**
   * The HostPool for a config, created on demand. Synchronous, and always followed at once by
   * a call on it: a HostPool that empties is forgotten, and nothing may hold it across an await.
   */
  #hostPool(config: HostConfig): HostPool {
    let host = this.#hosts.get(config.poolKey);
    if (!host) {
      const created = new HostPool(config, this.options, () => {
        if (this.#hosts.get(config.poolKey) === created && !this.closed) this.#hosts.delete(config.poolKey);
      });
      host = created;
      this.#hosts.set(config.poolKey, host);
    }
    return host;
  }

  /** A global permit plus a channel slot on some connection to `dest`. */
  async #lease<T>(
    dest: Destination,
    signal: AbortSignal | undefined,
    open: (conn: PoolConnection) => Promise<T>,
    permit = true,
  ): Promise<{ lease: Lease<T>; release: () => void; destination: string; hostPool: HostPool }> {
    const config = await this.#config(dest);
    const destination = destinationOf(config);
    const releasePermit = permit
      ? await this.#limit.acquire(signal, this.#lifetime.signal).catch((err: unknown) => {
          throw this.#abortError(err, signal, destination);
        })
      : () => {};
    try {
      const hostPool = this.#hostPool(config);
      const lease = await hostPool.acquire(open, signal);
      let released = false;
      return {
        lease,
        destination,
        hostPool,
        release: () => {
          if (released) return;
          released = true;
          lease.release();
          releasePermit();
        },
      };
    } catch (err) {
      releasePermit();
      throw this.#abortError(err, signal, destination);
    }
  }

  #abortError(err: unknown, signal: AbortSignal | undefined, destination: string): SshmuxError {
    if (signal?.aborted && err === signal.reason) {
      return new AbortedError(`Aborted before the command started (${destination})`, {
        destination,
        cause: err,
      });
    }
    return translateError(err, destination);
  }
}
