import type { Socket } from 'node:net';
import { encodeFrame, type Frame, FrameDecoder } from './protocol.js';

/**
 * A socket speaking frames: decodes whatever arrives into whole frames for `onFrame`, and
 * reports the end of the connection exactly once (with the error, if any: a protocol error
 * from a bad peer, or the socket's own).
 */
export class FramedSocket {
  readonly socket: Socket;
  readonly #decoder = new FrameDecoder();
  #onFrame: ((frame: Frame) => void) | undefined;
  /** Frames that arrived while no handler was set; delivered in order to the next one. */
  #queue: Frame[] = [];
  #closeListeners: ((err: Error | undefined) => void)[] = [];
  #closed = false;
  #error: Error | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.#closed) return;
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
      } catch (err) {
        this.destroy(err as Error);
        return;
      }
      this.#queue.push(...frames);
      this.#deliver();
    });
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Replace the frame handler (the connection moves from hello to session to control), or
   * clear it: frames then wait, so one chunk carrying several frames loses none of them.
   */
  onFrame(handler: ((frame: Frame) => void) | undefined): void {
    this.#onFrame = handler;
    this.#deliver();
  }

  #deliver(): void {
    // Frames that arrived before the close are still delivered after it (an exit status, say).
    while (this.#onFrame && this.#queue.length > 0) {
      this.#onFrame(this.#queue.shift()!);
    }
  }

  onClose(listener: (err: Error | undefined) => void): void {
    if (this.#closed) listener(this.#error);
    else this.#closeListeners.push(listener);
  }

  send(frame: Frame): void {
    if (this.#closed || this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(encodeFrame(frame));
  }

  /** Send the last frame and half-close; the peer closes its end when done reading. */
  end(frame?: Frame): void {
    if (frame) this.send(frame);
    if (!this.socket.writableEnded) this.socket.end();
  }

  destroy(err?: Error): void {
    this.#error ??= err;
    this.#queue = [];
    this.socket.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#closeListeners.splice(0)) l(this.#error);
  }
}
