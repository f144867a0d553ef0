import type { Writable } from 'node:stream';

/**
 * Batch the writes made to `sock` within one tick into a single `writev`. ssh2 writes every
 * packet (at most 32 KiB of channel data) with its own `socket.write`, i.e. one syscall and
 * one TCP push per packet; a stream sends 8 packets per 256 KiB chunk. Corking until the end
 * of the tick sends them together without delaying anything past the current tick, so
 * latency (TCP_NODELAY) is unchanged. Returns a function that restores the plain `write`.
 */
export function coalesceWrites(sock: Writable): () => void {
  if (typeof sock.cork !== 'function' || typeof sock.uncork !== 'function') return () => undefined;
  const write = sock.write;
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  const batched = function (this: Writable, ...args: Parameters<Writable['write']>): boolean {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return Reflect.apply(write, this, args) as boolean;
  };
  sock.write = batched as Writable['write'];
  return () => {
    if (sock.write === batched) sock.write = write;
  };
}
