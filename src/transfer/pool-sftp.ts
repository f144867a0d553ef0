import { AbortedError } from '../errors.js';
import type { Destination, RemoteProcess, RemoteRunner } from '../pool/types.js';
import { SftpClient, type SftpClientOptions } from './sftp-client.js';

/** sshmux's own SFTP client on a pooled `sftp` subsystem session. */
export interface PoolSftp {
  readonly client: SftpClient;
  /** End the session (EOF to the server) and wait for its channel to close. Idempotent. */
  close(): Promise<void>;
  /** Drop the session now: the channel is closed and every request in flight fails. */
  destroy(): void;
}

/**
 * Open the `sftp` subsystem on a pooled connection and start an `SftpClient` on its streams
 * (byte-string names, pipelined requests, OpenSSH extensions) rather than ssh2's SFTPWrapper,
 * whose paths must be UTF-8. Aborting `signal` destroys the session.
 */
export async function openPoolSftp(
  runner: RemoteRunner,
  dest: Destination,
  options: SftpClientOptions & { signal?: AbortSignal | undefined } = {},
): Promise<PoolSftp> {
  const { signal, ...clientOptions } = options;
  signal?.throwIfAborted();
  const proc: RemoteProcess = await runner.spawn(dest, 'sftp', {
    kind: 'subsystem',
    ...(signal && { signal }),
  });
  // The channel closing ends what the client reads, so requests still waiting fail at once.
  const exited = proc.exited.then(
    () => undefined,
    () => undefined,
  );
  exited.then(() => proc.stdout.destroy());
  proc.stderr.resume();
  let client: SftpClient;
  try {
    client = await SftpClient.start(proc.stdout, proc.stdin, clientOptions);
  } catch (err) {
    drop(proc);
    await exited;
    if (signal?.aborted) throw new AbortedError('SFTP session aborted', { cause: signal.reason });
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    client,
    close() {
      closing ??= (async () => {
        client.end();
        // Whatever is still on its way is not wanted, and the channel only closes once it is read.
        proc.stdout.resume();
        await exited;
      })();
      return closing;
    },
    destroy() {
      drop(proc);
    },
  };
}

/**
 * Close the channel now. ssh2 emits 'close' only after the channel's data has been read to its
 * end, so what is left is discarded (`resume` is a no-op while the client's reader still iterates).
 */
function drop(proc: RemoteProcess): void {
  proc.hangUp();
  proc.stdout.resume();
}
