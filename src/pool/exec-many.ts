import { AbortedError, isSshmuxError, type SshmuxError, translateError } from '../errors.js';
import { shellCommand } from '../quote.js';
import { collectOutput, DEFAULT_MAX_BUFFER } from './collect-output.js';
import { ConnectGate } from './connect-gate.js';
import {
  type ExecManyOptions,
  type ExecManySummary,
  type HostResult,
  type HostStatus,
  normalizeExecManyOptions,
  type ResolvedExecManyOptions,
} from './exec-many-options.js';
import type { ChannelProcess } from './remote-process.js';
import type { Destination, RunOptions } from './types.js';

/** What a run needs from the pool: connect-or-confirm, and start a command. */
export interface ManyRunner {
  check(dest: Destination, signal: AbortSignal | undefined): Promise<void>;
  spawn(
    dest: Destination,
    command: string,
    options: RunOptions,
  ): Promise<{ process: ChannelProcess; destination: string }>;
}

function hostName(dest: Destination): string {
  return typeof dest === 'string' ? dest : (dest?.originalHost ?? String(dest));
}

/**
 * One command on many hosts (what `pool.execMany` returns). It starts at once; iterate it with
 * `for await` for each host's result as it finishes, and/or await `summary()` for all of them.
 * Every host ends in a result, never a rejection.
 */
export class ExecManyRun<T extends Buffer | string = Buffer | string>
  implements AsyncIterable<HostResult<T>>
{
  readonly #finished: HostResult<T>[] = [];
  readonly #wake: (() => void)[] = [];
  readonly #summary: Promise<ExecManySummary<T>>;
  #done = false;

  /** @internal Built by `SshPool.execMany`. */
  constructor(
    hosts: readonly Destination[],
    command: readonly string[] | string,
    options: ExecManyOptions,
    runner: ManyRunner,
  ) {
    const opts = normalizeExecManyOptions(hosts, options);
    // Quoted once here, so a bad command throws now instead of once per host.
    const cmd = shellCommand(command);
    this.#summary = this.#runAll([...hosts], cmd, opts, runner);
  }

  /** Resolves when every host has ended: counts per status and all results in `hosts` order. */
  summary(): Promise<ExecManySummary<T>> {
    return this.#summary;
  }

  /** Each host's result as it finishes (completion order); every iterator sees them all. */
  async *[Symbol.asyncIterator](): AsyncIterator<HostResult<T>> {
    let next = 0;
    for (;;) {
      if (next < this.#finished.length) yield this.#finished[next++] as HostResult<T>;
      else if (this.#done) return;
      else await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  async #runAll(
    hosts: Destination[],
    command: string,
    opts: ResolvedExecManyOptions,
    runner: ManyRunner,
  ): Promise<ExecManySummary<T>> {
    const started = Date.now();
    const gate = new ConnectGate(opts.connectConcurrency, opts.connectStagger);
    const results: HostResult<T>[] = new Array(hosts.length);
    let nextIndex = 0;
    const worker = async (): Promise<void> => {
      while (nextIndex < hosts.length) {
        const index = nextIndex++;
        const r = await this.#host(hosts[index] as Destination, index, command, opts, runner, gate);
        results[index] = r;
        this.#finished.push(r);
        for (const wake of this.#wake.splice(0)) wake();
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, hosts.length) }, worker));
    this.#done = true;
    for (const wake of this.#wake.splice(0)) wake();
    const count = (s: HostStatus): number => results.filter((r) => r.status === s).length;
    return Object.freeze({
      total: results.length,
      ok: count('ok'),
      failed: count('failed'),
      errors: count('error'),
      aborted: count('aborted'),
      durationMs: Date.now() - started,
      peakConnecting: gate.peak,
      results: Object.freeze(results),
    });
  }

  async #host(
    dest: Destination,
    index: number,
    command: string,
    opts: ResolvedExecManyOptions,
    runner: ManyRunner,
    gate: ConnectGate,
  ): Promise<HostResult<T>> {
    const host = hostName(dest);
    const started = Date.now();
    const empty = (opts.encoding === 'utf8' ? '' : Buffer.alloc(0)) as T;
    const end = (status: HostStatus, error?: SshmuxError): HostResult<T> =>
      Object.freeze({
        host,
        index,
        status,
        exitCode: null,
        signal: null,
        stdout: empty,
        stderr: empty,
        error,
        durationMs: Date.now() - started,
      });
    const { signal } = opts;
    const aborted = (cause?: unknown): HostResult<T> =>
      end('aborted', new AbortedError(`Aborted before ${host} finished`, { destination: host, cause }));
    if (signal?.aborted) return aborted(signal.reason);
    try {
      // Connect (or confirm a live connection) inside the gate; the command then reuses it.
      await gate.run(signal, () => runner.check(dest, signal));
      const { process, destination } = await runner.spawn(dest, command, opts.run);
      const { onOutput } = opts;
      if (onOutput) {
        process.stdout.on('data', (chunk: Buffer) => onOutput(host, 'stdout', chunk));
        process.stderr.on('data', (chunk: Buffer) => onOutput(host, 'stderr', chunk));
      }
      const r = await collectOutput(process, {
        maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
        encoding: opts.encoding,
        destination,
        started,
      });
      return Object.freeze({
        host,
        index,
        status: r.exitCode === 0 && r.signal === null ? 'ok' : 'failed',
        exitCode: r.exitCode,
        signal: r.signal,
        stdout: r.stdout as T,
        stderr: r.stderr as T,
        error: undefined,
        durationMs: Date.now() - started,
      });
    } catch (err) {
      if (signal?.aborted) return aborted(isSshmuxError(err) ? err : signal.reason);
      const e = translateError(err, host);
      return e.kind === 'aborted' ? end('aborted', e) : end('error', e);
    }
  }
}
