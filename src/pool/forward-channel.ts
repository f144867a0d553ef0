import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ChannelError, isSshmuxError } from '../errors.js';
import type { ChannelOrigin, ChannelTarget } from './channel-target.js';
import type { PoolConnection } from './options.js';

/** A leased forwarding channel: a Duplex to the target; its slot is freed when it closes. */
export interface LeasedChannel extends AsyncDisposable {
  /** Bytes to and from the target; ending it sends EOF, as ssh does when the local side half-closes. */
  readonly channel: Duplex;
  /** `user@host:port` of the connection carrying it. */
  readonly destination: string;
  /** Resolves once the channel is closed (either side) and its slot released. */
  readonly closed: Promise<void>;
  /** Close the channel now (SSH CLOSE). Idempotent. */
  close(): void;
}

/** channels.c reason2txt(): the words ssh prints for SSH_MSG_CHANNEL_OPEN_FAILURE reasons. */
const REASONS: Record<number, string> = {
  1: 'administratively prohibited',
  2: 'connect failed',
  3: 'unknown channel type',
  4: 'resource shortage',
};

const SSH2_PREFIX = '(SSH) Channel open failure: ';

/**
 * Open a forwarding channel. A refusal becomes a ChannelError worded as ssh's
 * "open failed: connect failed: Connection refused", without a `reason`: sshd's MaxSessions
 * does not count these channels, so the pool must not learn a capacity from the refusal or
 * retry a connect the target itself refused.
 */
export async function openForward(
  conn: PoolConnection,
  target: ChannelTarget,
  origin: ChannelOrigin | undefined,
): Promise<ClientChannel> {
  try {
    return 'path' in target
      ? await conn.forwardOutStreamLocal(target.path)
      : await conn.forwardOut(target.host, target.port, origin);
  } catch (err) {
    const reason = err instanceof ChannelError ? err.reason : undefined;
    if (reason === undefined || !isSshmuxError(err)) throw err;
    const raw = err.cause instanceof Error ? err.cause.message : '';
    const description = raw.startsWith(SSH2_PREFIX) ? raw.slice(SSH2_PREFIX.length) : raw;
    throw new ChannelError(`open failed: ${REASONS[reason] ?? 'unknown reason'}: ${description}`, {
      code: 'SSHMUX_ERR_OPEN_FAILED',
      destination: err.destination,
      cause: err,
      retryable: false,
    });
  }
}

/** Wrap an open channel so that its close (from either side) releases the pool slot once. */
export function leaseChannel(
  channel: ClientChannel,
  release: () => void,
  destination: string,
): LeasedChannel {
  const closed = new Promise<void>((resolve) => {
    const done = (): void => {
      release();
      resolve();
    };
    channel.once('close', done);
  });
  // An error on the channel (a dead connection) is reported through 'close'; never unhandled.
  channel.on('error', () => {});
  // ssh2's destroy() is end() plus CLOSE, and does nothing once the channel is closing. ssh2
  // emits 'close' only after 'end', so what is still unread is drained (and dropped): else a
  // channel whose reader went away (a reset socket) would hold its slot for good. Unpiped
  // first, so a pipe that notices its dead destination later cannot pause it again.
  const close = (): void => {
    channel.unpipe();
    channel.destroy();
    channel.resume();
  };
  return {
    channel,
    destination,
    closed,
    close,
    [Symbol.asyncDispose]: async () => {
      close();
      await closed;
    },
  };
}
