import { Duplex, PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ListenFn, Offer } from '../forward/remote-forwards.js';
import type { RemoteListener } from '../pool/types.js';
import { CreditSink, CreditSource } from './flow.js';
import { type DaemonConnection, DaemonReportedError, nextFrame } from './mux-client.js';
import { type Frame, FrameType, ProtocolError } from './protocol.js';

/** Opens a fresh, greeted connection to the daemon. */
export type DaemonConnector = () => Promise<DaemonConnection>;

async function firstAnswer(
  daemon: DaemonConnection,
  expected: Frame['type'],
  onNotice?: (text: string) => void,
): Promise<Frame> {
  for (;;) {
    // Connecting and authenticating can take as long as the pool needs: no deadline here.
    const frame = await nextFrame(daemon.conn, undefined);
    if (frame.type === FrameType.Notice) {
      if (typeof frame.body.text === 'string') onNotice?.(frame.body.text);
      continue;
    }
    if (frame.type === FrameType.Error) {
      daemon.conn.destroy();
      throw new DaemonReportedError(frame.body);
    }
    if (frame.type !== expected) {
      daemon.conn.destroy();
      throw new ProtocolError(`expected frame type ${expected}, got type ${frame.type}`);
    }
    return frame;
  }
}

/**
 * Remote forwarding through the daemon: the daemon holds the listener on its pooled connection,
 * this process owns the local targets. Each listener is a daemon connection of its own (closing
 * it cancels the forward); each offered connection is claimed on another one, whose streams 0
 * and 1 carry its bytes with the usual credit flow control.
 */
export function daemonListen(
  connect: DaemonConnector,
  host: Record<string, unknown>,
  /** What the connect has to tell the user (the server's banner), as the daemon relays it. */
  onNotice?: (text: string) => void,
): ListenFn {
  return async (bind, onOffer) => {
    const daemon = await connect();
    daemon.conn.send({ type: FrameType.Listen, body: { host, bind } });
    const answer = await firstAnswer(daemon, FrameType.Listening, onNotice);
    const port = answer.type === FrameType.Listening ? answer.body.port : -1;
    const { conn } = daemon;
    conn.onFrame((f) => {
      if (f.type !== FrameType.Incoming) return;
      const id = String(f.body.id);
      const offer: Offer = {
        accept: () => claim(connect, id),
        reject: () => conn.send({ type: FrameType.Refuse, body: { id } }),
      };
      onOffer(offer);
    });
    let closing: Promise<void> | undefined;
    const listener: RemoteListener = {
      port,
      close: () => {
        // EOF asks the daemon to cancel on the server; it closes the connection once it has.
        closing ??= new Promise<void>((resolve) => {
          conn.onClose(() => resolve());
          conn.send({ type: FrameType.Eof, stream: 0 });
        });
        return closing;
      },
    };
    return listener;
  };
}

/** Claim one offered connection: a Duplex whose bytes travel on a daemon connection of its own. */
export async function claim(connect: DaemonConnector, id: string): Promise<Duplex> {
  const daemon = await connect();
  const { conn } = daemon;
  conn.send({ type: FrameType.Accept, body: { id } });
  await firstAnswer(daemon, FrameType.Opened);
  const send = (f: Frame): void => conn.send(f);
  const toDaemon = new CreditSink(0, send);
  // A PassThrough holds back its write callbacks while its reader is behind: credit follows.
  const fromDaemon = new PassThrough();
  const source = new CreditSource(1, fromDaemon, send);
  conn.onFrame((f) => {
    if (f.type === FrameType.Data && f.stream === 1) source.write(f.data);
    else if (f.type === FrameType.Eof && f.stream === 1) void source.flushed().then(() => fromDaemon.end());
    else if (f.type === FrameType.Window && f.stream === 0) toDaemon.grant(f.credit);
  });
  conn.onClose(() => {
    toDaemon.destroy();
    if (!fromDaemon.writableEnded) fromDaemon.destroy();
  });
  Promise.all([finished(fromDaemon), finished(toDaemon)]).then(
    () => conn.end(),
    () => conn.destroy(),
  );
  const stream = Duplex.from({ readable: fromDaemon, writable: toDaemon });
  // A daemon connection that drops ends the stream; whoever pipes it sees that as its end.
  stream.on('error', () => {});
  return stream;
}
