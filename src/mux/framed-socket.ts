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
  #onFrame: (frame: Frame) => void = () => {};
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
      for (const f of frames) {
        if (this.#closed) return;
        this.#onFrame(f);
      }
    });
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Replace the frame handler (the connection moves from hello to session to control). */
  onFrame(handler: (frame: Frame) => void): void {
    this.#onFrame = handler;
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
    this.socket.destroy();
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#closeListeners.splice(0)) l(this.#error);
  }
}
