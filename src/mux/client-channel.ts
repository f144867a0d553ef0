import { Duplex, PassThrough } from 'node:stream';
import { NetworkError } from '../errors.js';
import type { ChannelOrigin, ChannelTarget } from '../pool/channel-target.js';
import type { MuxEndpoint } from './endpoint.js';
import { CreditSink, CreditSource } from './flow.js';
import { connectDaemon, DaemonReportedError, nextFrame } from './mux-client.js';
import { FrameType, ProtocolError } from './protocol.js';

/** A forwarding channel the daemon opened on its pool, seen from the client. */
export interface DaemonChannel {
  /** Bytes to the target (stream 0) and from it (stream 1); ending it sends EOF. */
  readonly channel: Duplex;
  readonly closed: Promise<void>;
  close(): void;
}

/**
 * One forwarded connection through the daemon: a mux connection of its own whose OPEN says
 * `kind: 'direct'` and the target, then bytes on streams 0 and 1 with the usual credits.
 */
export async function openDaemonChannel(
  endpoint: MuxEndpoint,
  version: string,
  host: Record<string, unknown>,
  target: ChannelTarget,
  origin: ChannelOrigin,
): Promise<DaemonChannel> {
  const { conn, pid } = await connectDaemon(endpoint, version);
  conn.send({
    type: FrameType.Open,
    body: { host, kind: 'direct', target, origin, command: '', env: {}, pty: false, cwd: process.cwd() },
  });
  // Opening may wait for the pool to connect or for a free channel: no deadline.
  let first = await nextFrame(conn, undefined);
  while (first.type === FrameType.Notice) first = await nextFrame(conn, undefined);
  if (first.type === FrameType.Error) {
    conn.destroy();
    throw new DaemonReportedError(first.body);
  }
  if (first.type !== FrameType.Opened) {
    conn.destroy();
    throw new ProtocolError(`expected an opened frame, got type ${first.type}`);
  }
  const send = conn.send.bind(conn);
  const incoming = new PassThrough();
  const fromTarget = new CreditSource(1, incoming, send);
  const toTarget = new CreditSink(0, send);
  const channel = Duplex.from({ readable: incoming, writable: toTarget });
  channel.on('error', () => {});
  conn.onFrame((f) => {
    if (f.type === FrameType.Data && f.stream === 1) fromTarget.write(f.data);
    else if (f.type === FrameType.Eof && f.stream === 1) incoming.end();
    else if (f.type === FrameType.Window && f.stream === 0) toTarget.grant(f.credit);
    else if (f.type === FrameType.Error) conn.destroy(new DaemonReportedError(f.body));
  });
  const closed = new Promise<void>((resolve) =>
    conn.onClose((err) => {
      toTarget.destroy();
      if (!incoming.writableEnded) {
        incoming.destroy(
          err &&
            new NetworkError(`lost the sshmux daemon (pid ${pid}) during a forwarded connection`, {
              cause: err,
            }),
        );
      }
      resolve();
    }),
  );
  return { channel, closed, close: () => conn.destroy() };
}
