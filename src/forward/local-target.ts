import net from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LocalTarget } from './remote-spec.js';

/** A connection the server offers on a remote listener, however it reached us (pool channel or daemon relay). */
export interface OfferedConnection {
  /** Take it: the returned stream carries its bytes both ways. */
  accept(): Duplex | Promise<Duplex>;
  /** Refuse it (the server then closes the connection it accepted). */
  reject(): void;
}

/** What ssh logs when the local target cannot be reached (channels.c connect_to / connect_next). */
export function targetFailureLine(target: LocalTarget, err: NodeJS.ErrnoException): string {
  if ('path' in target) return `connect to ${target.path} port -2 failed: ${strerror(err)}`;
  return `connect_to ${target.host} port ${target.port}: failed.`;
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
  ENOTDIR: 'Not a directory',
};

function strerror(err: NodeJS.ErrnoException): string {
  return STRERROR[err.code ?? ''] ?? err.message;
}

/**
 * Connect an offered connection to its local target, as ssh does for each forwarded channel:
 * the channel is confirmed only once the local connect succeeded; a target that refuses gets
 * the channel refused and `onFailure` the line ssh logs; other channels are not affected.
 */
export function connectLocalTarget(
  target: LocalTarget,
  offered: OfferedConnection,
  onFailure: (line: string) => void,
): void {
  // Half-open: the target's end of data must not end our side too, or the channel would be torn
  // down while what the target sent still waits for the SSH window.
  const socket =
    'path' in target
      ? net.connect({ path: target.path, allowHalfOpen: true })
      : net.connect({ port: target.port, host: target.host, allowHalfOpen: true });
  const onError = (err: NodeJS.ErrnoException): void => {
    offered.reject();
    onFailure(targetFailureLine(target, err));
  };
  socket.once('error', onError);
  socket.once('connect', () => {
    socket.off('error', onError);
    // Bytes from the target wait in the socket (paused) until the channel is ours.
    socket.pause();
    Promise.resolve()
      .then(() => offered.accept())
      .then(
        (channel) => {
          // Each direction ends on its own (half-close), as ssh relays EOF; a failure ends both.
          const drop = (): void => {
            socket.destroy();
            channel.destroy();
          };
          pipeline(socket, channel).catch(drop);
          pipeline(channel, socket).catch(drop);
        },
        () => socket.destroy(),
      );
  });
}
