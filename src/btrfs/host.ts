import type { Readable, Writable } from 'node:stream';

/** Result of a short command on a host; a non-zero exit is data, not an exception. */
export interface HostRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A running pipeline of commands on a host (stdout of each stage feeds the next). */
export interface HostProcess {
  /** Stdin of the first stage. */
  readonly stdin: Writable;
  /** Stdout of the last stage. */
  readonly stdout: Readable;
  /** Resolves once every stage has exited, with the first failing stage's status (or 0). */
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** The last bytes every stage wrote to stderr (drained continuously, bounded). */
  stderr(): string;
  /** Stop the pipeline (its channel or child processes). */
  kill(): void;
  /**
   * SHA-256 of what the first stage wrote (`digest: 'output'`) or the last stage read
   * (`digest: 'input'`), when this process sees those bytes itself: local pipelines only.
   */
  digest?: () => string;
}

/** How to spawn a pipeline: abort, and which bytes this process should digest (local hosts). */
export interface SpawnOptions {
  signal?: AbortSignal;
  digest?: 'output' | 'input';
}

/** Where a btrfs command runs: this machine or an SSH destination. Preflight and transfer see only this. */
export interface BtrfsHost {
  /** `local` or the destination, for messages. */
  readonly label: string;
  /** The SSH destination, undefined for the local machine. */
  readonly destination: string | undefined;
  run(argv: readonly string[], options?: { signal?: AbortSignal }): Promise<HostRun>;
  spawn(stages: readonly (readonly string[])[], options?: SpawnOptions): Promise<HostProcess>;
}

const TAIL = 16 * 1024;

/** Bounded stderr collector: keeps the last 16 KiB as text. */
export class StderrTail {
  #text = '';
  add(chunk: Buffer | string): void {
    this.#text += chunk.toString();
    if (this.#text.length > TAIL * 2) this.#text = this.#text.slice(-TAIL);
  }
  toString(): string {
    return this.#text.slice(-TAIL);
  }
}
