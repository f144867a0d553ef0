import { type Readable, Transform, type TransformCallback } from 'node:stream';

/** A progress report: monotonic `bytes`, the last one has `done: true` and the stream's byte count. */
export interface ProgressEvent {
  /** Bytes of the btrfs stream that passed so far. */
  bytes: number;
  /** Milliseconds since the first byte was expected. */
  elapsedMs: number;
  /** Recent throughput in bytes/s (over the last few seconds). */
  rate: number;
  /** Estimated stream size in bytes, when one is known. */
  total: number | null;
  /** Estimated milliseconds left, when `total` is known and data moves. */
  etaMs: number | null;
  /** True on the last event, when the stream ended. */
  done: boolean;
}

export interface ProgressMeterOptions {
  onProgress?: (event: ProgressEvent) => void;
  /** Least milliseconds between two reports (the final one is always sent). @default 250 */
  intervalMs?: number;
  /** Estimated size for the ETA. */
  total?: number | null;
  /** Clock in milliseconds (tests inject one). @default performance.now */
  now?: () => number;
}

const WINDOW_MS = 5_000;
/** Least milliseconds between two rate samples: a sample per 64 KiB chunk was 16k arrays per GiB. */
const SAMPLE_MS = 50;
const MIN_RATE_SPAN_MS = 500;
const FILL_MS = 300;

/**
 * Counts bytes, reports progress and remembers when data last moved (for stall detection).
 * Either a pass-through Transform in a pipeline, or an observer of a stream (`observe`), which
 * costs a stream stage less per chunk.
 */
export class ProgressMeter extends Transform {
  readonly #onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly #intervalMs: number;
  #total: number | null;
  readonly #now: () => number;
  readonly #start: number;
  #bytes = 0;
  /** When the first byte came: rates count from there, not from the start (spawn, connection). */
  #firstByte: number | null = null;
  #lastReport = Number.NEGATIVE_INFINITY;
  #lastActivity: number;
  /** [time, bytes] samples over the last WINDOW_MS for the rate. */
  #samples: [number, number][] = [];
  /** What `onProgress` threw. */
  #listenerError: Error | undefined;

  constructor(options: ProgressMeterOptions = {}) {
    super({ highWaterMark: 64 * 1024 });
    this.#onProgress = options.onProgress;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#total = options.total ?? null;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#lastActivity = this.#start;
    this.#samples.push([this.#start, 0]);
  }

  /** Set the estimated size once it is known (an estimate may finish after the stream started). */
  setTotal(total: number | null): void {
    this.#total = total;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Clock time of the last byte (or of construction): the stall watchdog reads this. */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#count(chunk.length)) callback(null, chunk);
    else callback(this.#listenerError);
  }

  /**
   * Count what `source` emits without standing between it and its consumer; the final report
   * comes at its end. A throwing `onProgress` destroys `source` (and so fails its pipeline).
   */
  observe(source: Readable): void {
    source.on('data', (chunk: Buffer) => {
      if (!this.#count(chunk.length)) source.destroy(this.#listenerError);
    });
    source.once('end', () => {
      if (!this.#report(true)) source.destroy(this.#listenerError);
    });
  }

  /** False when the progress callback threw (the error is in #listenerError). */
  #count(n: number): boolean {
    const t = this.#now();
    this.#bytes += n;
    if (this.#firstByte === null) {
      // The first chunk's own travel time is unknown: the rate counts the bytes after it.
      this.#firstByte = t;
      this.#samples = [[t, this.#bytes]];
    }
    this.#lastActivity = t;
    if (t - this.#samples.at(-1)![0] >= SAMPLE_MS) {
      this.#samples.push([t, this.#bytes]);
      // The first instants fill pipe and socket buffers faster than the link drains: once enough
      // has flowed, the rate leaves them out.
      const from = Math.max(
        t - WINDOW_MS,
        t - this.#firstByte! >= 2 * FILL_MS + MIN_RATE_SPAN_MS ? this.#firstByte! + FILL_MS : 0,
      );
      while (this.#samples.length > 2 && this.#samples[1]![0] <= from) this.#samples.shift();
    }
    if (t - this.#lastReport >= this.#intervalMs) return this.#report(false);
    return true;
  }

  override _flush(callback: TransformCallback): void {
    if (this.#report(true)) callback();
    else callback(this.#listenerError);
  }

  /** The current state, as the next report would give it. */
  snapshot(done = false): ProgressEvent {
    const t = this.#now();
    const elapsedMs = t - this.#start;
    const [t0, b0] = this.#samples[0]!;
    const span = t - t0;
    const rate = span > 0 ? ((this.#bytes - b0) * 1000) / span : 0;
    const total = this.#total === null ? null : Math.max(this.#total, this.#bytes);
    // A rate over less than MIN_RATE_SPAN_MS is mostly pipe buffers filling: no ETA from it.
    const flowing = this.#firstByte !== null && t - this.#firstByte >= MIN_RATE_SPAN_MS;
    const etaMs = done
      ? 0
      : total !== null && rate > 0 && flowing
        ? ((total - this.#bytes) * 1000) / rate
        : null;
    return { bytes: this.#bytes, elapsedMs, rate, total, etaMs, done };
  }

  #report(done: boolean): boolean {
    this.#lastReport = this.#now();
    if (!this.#onProgress) return true;
    try {
      this.#onProgress(this.snapshot(done));
      return true;
    } catch (err) {
      this.#listenerError = err as Error;
      return false;
    }
  }
}
