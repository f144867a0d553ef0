import { pipeline } from 'node:stream/promises';
import type { RemoteRunner } from '../pool/types.js';
import { shellCommand } from '../quote.js';
import { type BtrfsHost, type HostProcess, type HostRun, type SpawnOptions, StderrTail } from './host.js';

/**
 * The remote command line for a pipeline of argv stages. One stage is `exec`ed so that the
 * channel's process is the program itself (a signal or a closed channel reaches it directly).
 * Two stages run under `sh -c` and exit with the first failing stage's status, since POSIX sh
 * has no pipefail: a failed `btrfs send` must not hide behind a successful `zstd`.
 */
export function remotePipeline(stages: readonly (readonly string[])[]): string {
  if (stages.length === 1) return `exec ${shellCommand(stages[0]!)}`;
  if (stages.length !== 2) throw new TypeError(`Expected 1 or 2 pipeline stages, got ${stages.length}`);
  const [a, b] = stages.map((s) => shellCommand(s));
  const script =
    `exec 4>&1; rc=$( { { ${a} 4>&-; echo $? >&3; } | ${b} 3>&- >&4; } 3>&1 ); z=$?; ` +
    `[ "\${rc:-1}" = 0 ] || exit "\${rc:-1}"; exit $z`;
  return shellCommand(['sh', '-c', script]);
}

/**
 * The receive window of a remote end's channel: a stream the remote `btrfs send` writes crosses
 * the link at most at window ÷ RTT, 2 MiB (ssh2's, OpenSSH's) giving ~20 MiB/s at 100 ms; 16 MiB
 * lifts that to ~160 MiB/s. Only what this process receives is affected (a pull or relay's
 * sending end); it is also what a stalled reader may leave buffered, per stream.
 */
export const STREAM_RECEIVE_WINDOW = 16 * 1024 * 1024;

/** An SSH destination reached through the pool: every command is an argv quoted by `shellCommand`. */
export class RemoteHost implements BtrfsHost {
  readonly label: string;
  readonly destination: string;
  readonly #pool: RemoteRunner;

  constructor(pool: RemoteRunner, destination: string) {
    this.#pool = pool;
    this.destination = destination;
    this.label = destination;
  }

  async run(argv: readonly string[], options: { signal?: AbortSignal } = {}): Promise<HostRun> {
    const r = await this.#pool.exec(this.destination, shellCommand(argv), {
      encoding: 'utf8',
      track: true,
      ...(options.signal && { signal: options.signal }),
    });
    return { code: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  async spawn(stages: readonly (readonly string[])[], options: SpawnOptions = {}): Promise<HostProcess> {
    const proc = await this.#pool.spawn(this.destination, remotePipeline(stages), {
      track: true,
      receiveWindow: STREAM_RECEIVE_WINDOW,
      ...(options.signal && { signal: options.signal }),
    });
    const tail = new StderrTail();
    const drained = pipeline(proc.stderr, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) tail.add(chunk);
    }).catch(() => undefined);
    const exited = proc.exited.then(async (status) => {
      await drained;
      return status;
    });
    // Avoid an unhandled rejection when the transfer fails before anyone awaits the exit.
    exited.catch(() => undefined);
    return {
      stdin: proc.stdin,
      stdout: proc.stdout,
      exited,
      stderr: () => tail.toString(),
      kill: () => proc.kill(),
    };
  }
}
