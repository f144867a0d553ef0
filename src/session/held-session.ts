import type { HostConfig } from '../config/host-config.js';
import type { SshmuxError } from '../errors.js';
import type { HeldConnection } from '../pool/held-connection.js';

/** Whatever can hold a connection open without a session: an `SshPool`. */
export interface ConnectionHolder {
  hold(dest: HostConfig, options?: { signal?: AbortSignal }): Promise<HeldConnection>;
}

/**
 * What runs on the held connection once it is authenticated, before the session counts as
 * started (so `-f` backgrounds only after it): the place where forwards (-L/-R/-D) hang. A
 * rejection ends the session with that error (ExitOnForwardFailure). It may return a cleanup.
 */
export type HeldSessionSetup = (held: HeldConnection) => Promise<(() => Promise<void> | void) | undefined>;

/** ssh -N / SessionType none: no session channel, the connection held until closed or lost. */
export interface HeldSession {
  readonly held: HeldConnection;
  /** Settles when the connection ends by itself (ssh's exit status is then 255: no remote status). */
  readonly exited: Promise<{ code: null; signal: null; error: SshmuxError | undefined }>;
  /** Undo the setup, stop holding (idempotent). */
  close(): Promise<void>;
}

export async function holdSession(
  holder: ConnectionHolder,
  host: HostConfig,
  options: { setup?: HeldSessionSetup; signal?: AbortSignal } = {},
): Promise<HeldSession> {
  const held = await holder.hold(host, options.signal === undefined ? {} : { signal: options.signal });
  let cleanup: (() => Promise<void> | void) | undefined;
  try {
    cleanup = await options.setup?.(held);
  } catch (err) {
    held.release();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    held,
    exited: held.ended.then((error) => ({ code: null, signal: null, error })),
    close: () => {
      closing ??= (async () => {
        try {
          await cleanup?.();
        } finally {
          held.release();
        }
      })();
      return closing;
    },
  };
}
