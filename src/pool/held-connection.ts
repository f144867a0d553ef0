import type { SshmuxError } from '../errors.js';
import type { PoolConnection } from './options.js';

/**
 * A pooled connection kept open with no session on it (ssh -N): it counts as busy, so the
 * pool never idle-closes it, and its socket keeps the process alive until `release()`.
 */
export interface HeldConnection extends AsyncDisposable {
  /** `user@host:port`. */
  readonly destination: string;
  /** Settles when the connection ends: `undefined` for a clean close, else why it died. Never rejects. */
  readonly ended: Promise<SshmuxError | undefined>;
  /** Stop holding (idempotent); the connection then idles out as any other. */
  release(): void;
}

export function heldConnection(
  conn: PoolConnection,
  release: () => void,
  destination: string,
): HeldConnection {
  let released = false;
  const ended = new Promise<SshmuxError | undefined>((resolve) => conn.onClosed(resolve));
  const stop = (): void => {
    if (released) return;
    released = true;
    release();
  };
  // A dead connection holds nothing: free its slot (and global permit) at once.
  void ended.then(stop);
  return {
    destination,
    ended,
    release: stop,
    [Symbol.asyncDispose]: async () => stop(),
  };
}
