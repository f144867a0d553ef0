import type { Readable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { ConfigError } from '../errors.js';

/** ssh2's own receive window per channel (OpenSSH's session windows are the same 2 MiB). */
export const DEFAULT_RECEIVE_WINDOW = 2 * 1024 * 1024;
/** The largest window accepted: memory per channel is bounded by it, and SSH counts in uint32. */
export const MAX_RECEIVE_WINDOW = 256 * 1024 * 1024;

/** The parts of an ssh2 channel the window is kept in (ssh2 1.x: `incoming`, `outgoing`, `_client`). */
interface WindowedChannel {
  incoming: { window: number };
  outgoing: { id: number; state: string };
  _client: { _protocol: { channelWindowAdjust(id: number, amount: number): void } };
  stderr: Readable;
}

/** `receiveWindow` checked: an integer from ssh2's 2 MiB to 256 MiB, or a `ConfigError` naming it. */
export function checkReceiveWindow(value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < DEFAULT_RECEIVE_WINDOW ||
    value > MAX_RECEIVE_WINDOW
  ) {
    throw new ConfigError(
      `Expected \`receiveWindow\` to be an integer number of bytes from ${DEFAULT_RECEIVE_WINDOW} to ${MAX_RECEIVE_WINDOW}, got \`${String(value)}\` (${typeof value})`,
    );
  }
  return value;
}

/**
 * Let the server keep up to `bytes` (instead of ssh2's fixed 2 MiB) of this channel's output in
 * flight. The receiver's window is what bounds one channel to window ÷ RTT (2 MiB at 100 ms:
 * ~20 MiB/s); the client may raise its own at any time with CHANNEL_WINDOW_ADJUST (RFC 4254
 * §5.2), which OpenSSH's sshd honours. ssh2 fixes the initial window at 2 MiB and tops it up to
 * 2 MiB only, so this grants the difference right after the open and then tops the window up
 * to `bytes` whenever the reader has taken half a MiB (or half the window) of it.
 *
 * Flow control stays end to end: window is granted only for data ssh2 handed to a reader that
 * wanted it (a `push` that was accepted, or a `_read` asking for more), so what a slow reader
 * leaves buffered is bounded by `bytes` (stdout and stderr together) plus the streams' 2 MiB
 * high-water mark, as it was by 2 MiB plus that mark before.
 */
export function widenReceiveWindow(channel: ClientChannel, bytes: number): void {
  const target = checkReceiveWindow(bytes);
  const ch = channel as unknown as WindowedChannel;
  if (target === DEFAULT_RECEIVE_WINDOW || typeof ch.incoming?.window !== 'number') return;
  const step = Math.min(target / 2, 512 * 1024);
  const topUp = (): void => {
    if (ch.outgoing.state === 'closed') return;
    const amount = target - ch.incoming.window;
    if (amount < step) return;
    ch.incoming.window += amount;
    ch._client._protocol.channelWindowAdjust(ch.outgoing.id, amount);
  };
  for (const stream of [channel as Readable, ch.stderr]) {
    const push = stream.push;
    stream.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
      const accepted = push.call(this, chunk, encoding);
      if (accepted && chunk !== null) topUp();
      return accepted;
    };
    const read = stream._read;
    stream._read = function (this: Readable, size: number): void {
      read.call(this, size);
      topUp();
    };
  }
  if (ch.outgoing.state === 'open') {
    const amount = target - ch.incoming.window;
    ch.incoming.window += amount;
    ch._client._protocol.channelWindowAdjust(ch.outgoing.id, amount);
  }
}
