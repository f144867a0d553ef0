import { Writable } from 'node:stream';
import { type Frame, FrameType, INITIAL_WINDOW, MAX_DATA, type StreamId } from './protocol.js';

/**
 * The sending half of one stream: a Writable that turns writes into DATA frames, never
 * more bytes than the peer granted. A write whose bytes exceed the credit completes only when
 * WINDOW frames have made room, so `pipeline(source, sink)` pauses the source (a remote
 * channel, or our stdin) instead of buffering. Ending it sends EOF.
 */
export class CreditSink extends Writable {
  readonly stream: StreamId;
  readonly #send: (frame: Frame) => void;
  #credit: number;
  #pending: { data: Buffer; callback: (err?: Error | null) => void } | undefined;

  constructor(stream: StreamId, send: (frame: Frame) => void, initialCredit = INITIAL_WINDOW) {
    super({ highWaterMark: MAX_DATA });
    this.stream = stream;
    this.#send = send;
    this.#credit = initialCredit;
  }

  /** Bytes the peer allows us to send right now. */
  get credit(): number {
    return this.#credit;
  }

  /** The peer consumed `n` bytes: send more. */
  grant(n: number): void {
    this.#credit += n;
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    this.#drain(p.data, p.callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#drain(chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#send({ type: FrameType.Eof, stream: this.stream });
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const p = this.#pending;
    this.#pending = undefined;
    p?.callback(err ?? new Error('stream destroyed'));
    callback(err);
  }

  #drain(data: Buffer, callback: (err?: Error | null) => void): void {
    let rest = data;
    while (rest.length > 0 && this.#credit > 0) {
      const n = Math.min(rest.length, this.#credit, MAX_DATA);
      this.#send({ type: FrameType.Data, stream: this.stream, data: rest.subarray(0, n) });
      this.#credit -= n;
      rest = rest.subarray(n);
    }
    if (rest.length > 0) this.#pending = { data: rest, callback };
    else callback();
  }
}

/**
 * The receiving half of one stream: writes DATA into a local Writable and grants the bytes
 * back once that Writable has taken them (its write callback), in batches of a quarter
 * window so WINDOW frames stay rare. Unconsumed data is therefore bounded by the window.
 */
export class CreditSource {
  readonly stream: StreamId;
  readonly #sink: NodeJS.WritableStream;
  readonly #send: (frame: Frame) => void;
  readonly #batch: number;
  #consumed = 0;
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #received = 0;

  constructor(
    stream: StreamId,
    sink: NodeJS.WritableStream,
    send: (frame: Frame) => void,
    window = INITIAL_WINDOW,
  ) {
    this.stream = stream;
    this.#sink = sink;
    this.#send = send;
    this.#batch = Math.max(1, Math.floor(window / 4));
  }

  /** Total bytes received on this stream. */
  get received(): number {
    return this.#received;
  }

  write(data: Buffer): void {
    this.#received += data.length;
    this.#inFlight++;
    const n = data.length;
    this.#sink.write(data, (err?: Error | null) => {
      this.#inFlight--;
      if (!err) {
        this.#consumed += n;
        if (this.#consumed >= this.#batch) {
          this.#send({ type: FrameType.Window, stream: this.stream, credit: this.#consumed });
          this.#consumed = 0;
        }
      }
      if (this.#inFlight === 0) for (const r of this.#idle.splice(0)) r();
    });
  }

  /** Resolves when every write handed to the local sink has completed. */
  flushed(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
