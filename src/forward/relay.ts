import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What a forward needs from an open channel; the pool's LeasedChannel is one. */
export interface ForwardChannel {
  readonly channel: Duplex;
  readonly closed: Promise<void>;
  close(): void;
}

/**
 * Relay bytes between an accepted socket and its channel until both directions ended, as ssh
 * does: EOF travels on its own in each direction (half-close), and either side closing for
 * good closes the other. Resolves when both are closed.
 */
export function relay(socket: Socket | Duplex, fwd: ForwardChannel, first?: Buffer): Promise<void> {
  const { channel } = fwd;
  if (first && first.length > 0) channel.write(first);
  socket.pipe(channel);
  channel.pipe(socket);
  socket.on('error', () => socket.destroy());
  channel.on('error', () => fwd.close());
  const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socketClosed.then(() => fwd.close());
  fwd.closed.then(() => {
    // The remote side closed: what it sent is written, then the socket ends.
    if (!socket.destroyed) socket.end(() => socket.destroy());
  });
  return Promise.all([socketClosed, fwd.closed]).then(() => undefined);
}
