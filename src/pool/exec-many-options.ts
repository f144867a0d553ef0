import { ConfigError, type SshmuxError } from '../errors.js';
import type { Destination, RunOptions } from './types.js';

/**
 * Options of `pool.execMany`. Everything `exec` takes applies to each host's command, except
 * `check` (a failing host is a result, not a rejection) and a stream `stdin` (it can be read once).
 */
export interface ExecManyOptions extends Omit<RunOptions, 'stdin'> {
  /** Hosts whose command runs at once; the pool's own `concurrency` also bounds running commands. @default 32 */
  concurrency?: number;
  /**
   * Connection attempts (TCP connect to authenticated) in flight at once, across all hosts. An
   * OpenSSH server (and a bastion) starts refusing at its `MaxStartups` (default 10:30:100) of
   * unauthenticated connections; staying below it means no connection is ever dropped. @default 8
   */
  connectConcurrency?: number;
  /** Milliseconds between starting one connection attempt and the next. @default 20 */
  connectStagger?: number;
  /** Aborting stops hosts not yet started (reported `aborted`) and kills running commands. */
  signal?: AbortSignal;
  /** Milliseconds each host's command may run (its connection not counted); then `kind: timeout`. */
  timeout?: number;
  /** The same data on every host's stdin. */
  stdin?: Buffer | string;
  /** Decode stdout/stderr as UTF-8. @default 'buffer' */
  encoding?: 'utf8' | 'buffer';
  /** Cap on captured bytes per stream and host; past it that host is an `error`. @default 64 MiB */
  maxBuffer?: number;
  /** Each chunk of output as it arrives, for live display (`sshmux run`'s `host: line`). */
  onOutput?: (host: string, stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/**
 * How a host ended: `ok` (exit 0), `failed` (ran; non-zero exit or killed by a signal), `error`
 * (could not connect, authenticate or run: see `error`), `aborted` (the signal, before or while running).
 */
export type HostStatus = 'ok' | 'failed' | 'error' | 'aborted';

/** One host's outcome. */
export interface HostResult<T extends Buffer | string = Buffer | string> {
  /** The destination as given (a HostConfig's `originalHost`). */
  readonly host: string;
  /** Its position in the `hosts` list. */
  readonly index: number;
  /** `ok` (exit 0), `failed` (ran, non-zero or signal), `error` (never ran) or `aborted`. */
  readonly status: HostStatus;
  /** Remote exit status; null when killed by a signal or never run. */
  readonly exitCode: number | null;
  /** Signal name without `SIG`, or null. */
  readonly signal: string | null;
  /** The command's standard output (a string with `encoding: 'utf8'`). */
  readonly stdout: T;
  /** Its standard error. */
  readonly stderr: T;
  /** Why the host is `error` or `aborted`. */
  readonly error: SshmuxError | undefined;
  /** From the host's start (after waiting for a turn) to its end, connection included. */
  readonly durationMs: number;
}

/** The whole run: counts per status, and every host's result in `hosts` order. */
export interface ExecManySummary<T extends Buffer | string = Buffer | string> {
  /** Hosts in the run. */
  readonly total: number;
  /** Hosts whose command exited 0. */
  readonly ok: number;
  /** Hosts whose command ran and exited non-zero or by a signal. */
  readonly failed: number;
  /** Hosts that could not run the command (connection, authentication, channel…). */
  readonly errors: number;
  /** Hosts stopped by the signal before or while running. */
  readonly aborted: number;
  /** The whole run's wall time. */
  readonly durationMs: number;
  /** Most connection attempts that were in flight at once (never above `connectConcurrency`). */
  readonly peakConnecting: number;
  /** Every host's result, in the order of `hosts`. */
  readonly results: readonly HostResult<T>[];
}

export interface ResolvedExecManyOptions {
  readonly concurrency: number;
  readonly connectConcurrency: number;
  readonly connectStagger: number;
  readonly signal: AbortSignal | undefined;
  readonly encoding: 'utf8' | 'buffer';
  readonly maxBuffer: number | undefined;
  readonly onOutput: ExecManyOptions['onOutput'];
  /** What each host's spawn gets. */
  readonly run: RunOptions;
}

function describe(v: unknown): string {
  return `\`${String(v)}\` (${typeof v})`;
}

function integer(name: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ConfigError(`Expected \`${name}\` to be an integer from ${min} and up, got ${describe(v)}`);
  }
  return v;
}

/** Validate once into a frozen object; `check` and a stream `stdin` are refused by name. */
export function normalizeExecManyOptions(
  hosts: readonly Destination[],
  options: ExecManyOptions,
): ResolvedExecManyOptions {
  if (!Array.isArray(hosts))
    throw new ConfigError(`Expected \`hosts\` to be an array, got ${describe(hosts)}`);
  const o = (options ?? {}) as ExecManyOptions & { check?: unknown };
  if (o.check !== undefined) {
    throw new ConfigError(
      "`check` does not apply to execMany: a host that fails is a result (status 'failed'); read summary().failed",
    );
  }
  const { stdin, encoding, maxBuffer, onOutput, concurrency, connectConcurrency, connectStagger, ...run } = o;
  if (stdin !== undefined && typeof stdin !== 'string' && !Buffer.isBuffer(stdin)) {
    throw new ConfigError(
      `Expected \`stdin\` to be a Buffer or string (every host gets the same data), got ${describe(stdin)}`,
    );
  }
  if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'buffer') {
    throw new ConfigError(`Expected \`encoding\` to be 'utf8' or 'buffer', got ${describe(encoding)}`);
  }
  if (onOutput !== undefined && typeof onOutput !== 'function') {
    throw new ConfigError(`Expected \`onOutput\` to be a function, got ${describe(onOutput)}`);
  }
  if (
    connectStagger !== undefined &&
    (typeof connectStagger !== 'number' || !(connectStagger >= 0) || !Number.isFinite(connectStagger))
  ) {
    throw new ConfigError(
      `Expected \`connectStagger\` to be a number of milliseconds from 0 and up, got ${describe(connectStagger)}`,
    );
  }
  if (maxBuffer !== undefined && (typeof maxBuffer !== 'number' || !(maxBuffer >= 0))) {
    throw new ConfigError(`Expected \`maxBuffer\` to be a number from 0 and up, got ${describe(maxBuffer)}`);
  }
  if (run.signal !== undefined && !(run.signal instanceof AbortSignal)) {
    throw new ConfigError(`Expected \`signal\` to be an AbortSignal, got ${describe(run.signal)}`);
  }
  return Object.freeze({
    concurrency: integer('concurrency', concurrency, 32, 1),
    connectConcurrency: integer('connectConcurrency', connectConcurrency, 8, 1),
    connectStagger: connectStagger ?? 20,
    signal: run.signal,
    encoding: encoding ?? 'buffer',
    maxBuffer,
    onOutput,
    run: Object.freeze({ ...run, ...(stdin !== undefined && { stdin }) }),
  });
}
