import type { Readable } from 'node:stream';
import { NetworkError } from '../errors.js';
import { joined, type PacketReader, PacketSplitter } from './sftp-codec.js';

const closed = () => new NetworkError('Connection closed: the SFTP server went away');

/**
 * The SFTP packets of a stream, taken from its 'data' events and handed on synchronously.
 * Not an async iterator: `for await` over a Readable calls `read()`, which joins every chunk
 * buffered so far into one new Buffer (a copy of each byte of a download, and the profile's
 * biggest allocation after decrypt), and costs a promise per chunk; a 1 GiB download is
 * 32768 SSH packets. Also, the channel's window is topped up by ssh2 as soon as a chunk is
 * taken, so replies flow while the client is busy elsewhere.
 */
export class FrameFeed {
  readonly #queue: Buffer[][] = [];
  #onFrame: ((pieces: Buffer[]) => void) | undefined;
  #onEnd: ((why: Error) => void) | undefined;
  #ended: Error | undefined;
  #firstWaiter: { resolve: (f: Buffer | undefined) => void; reject: (e: Error) => void } | undefined;
  #firstTaken = false;
  readonly #input: Readable;

  constructor(input: Readable) {
    this.#input = input;
    const splitter = new PacketSplitter((pieces) => this.#deliver(pieces));
    input.on('data', (chunk: Buffer) => {
      if (this.#ended) return;
      try {
        splitter.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    input.once('end', () => this.#end(closed(), true));
    input.once('close', () => this.#end(closed(), true));
    input.once('error', (err) => this.#end(err, false));
  }

  /** The first packet (VERSION); undefined when the stream ended before one came. */
  first(): Promise<Buffer | undefined> {
    this.#firstTaken = true;
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(joined(queued));
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.#firstWaiter = { resolve, reject };
    });
  }

  /**
   * Every further packet goes to `onFrame`, as its pieces (a throw there is a broken server: the stream is
   * destroyed); `onEnd` is told once why the stream is over.
   */
  attach(onFrame: (pieces: Buffer[]) => void, onEnd: (why: Error) => void): void {
    this.#onFrame = onFrame;
    this.#onEnd = onEnd;
    try {
      for (let f = this.#queue.shift(); f; f = this.#queue.shift()) onFrame(f);
    } catch (err) {
      this.#fail(err as Error);
    }
    if (this.#ended) onEnd(this.#ended);
  }

  #deliver(pieces: Buffer[]): void {
    const waiter = this.#firstWaiter;
    if (this.#onFrame) {
      this.#onFrame(pieces);
    } else if (waiter && this.#firstTaken) {
      this.#firstWaiter = undefined;
      waiter.resolve(joined(pieces));
    } else {
      this.#queue.push(pieces);
    }
  }

  #fail(err: Error): void {
    this.#end(err, false);
    this.#input.destroy();
  }

  #end(why: Error, plain: boolean): void {
    if (this.#ended) return;
    this.#ended = why;
    const waiter = this.#firstWaiter;
    this.#firstWaiter = undefined;
    if (waiter) plain ? waiter.resolve(undefined) : waiter.reject(why);
    this.#onEnd?.(why);
  }
}

/** type, id, and the data string's length: what precedes the bytes of an SSH_FXP_DATA. */
export const DATA_HEAD = 9;

/**
 * The data of an SSH_FXP_DATA reply that came in pieces (`head` read up to its string's length),
 * checked against that length.
 */
export function dataPieces(pieces: Buffer[], head: PacketReader): Buffer[] {
  const n = head.uint32();
  const data = [pieces[0]!.subarray(DATA_HEAD), ...pieces.slice(1)];
  let have = 0;
  for (const p of data) have += p.length;
  if (n > have) throw new RangeError('truncated SFTP packet');
  // Bytes after the string (none from any server known) are dropped, as PacketReader would leave them.
  for (let extra = have - n; extra > 0; ) {
    const last = data.pop()!;
    if (last.length > extra) data.push(last.subarray(0, last.length - extra));
    extra -= Math.min(extra, last.length);
  }
  return data.filter((p) => p.length > 0);
}
