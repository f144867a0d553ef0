import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NetworkError } from '../errors.js';
import { CreditSink, CreditSource } from './flow.js';
import { type DaemonConnection, DaemonReportedError, nextFrame } from './mux-client.js';
import { type ExitMessage, type Frame, FrameType, type OpenMessage, ProtocolError } from './protocol.js';

export interface SessionIo {
  /** Local stdin to relay, or null for `-n` (the remote gets EOF at once). */
  stdin: Readable | null;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A running session through the daemon: forward signals with `signal()`, await `exited`. */
export interface ClientSession {
  readonly exited: Promise<ExitMessage>;
  signal(name: string): void;
  /** The local terminal changed size: pass it on (`window-change`). */
  resize(size: { rows: number; cols: number }): void;
  /** Start a key re-exchange on the session's connection (`~R`). */
  rekey(): void;
  /** Send a BREAK on the session's channel (`~B`). */
  sendBreak(lengthMs: number): void;
  /** Drop the connection to the daemon (which then hangs up on the remote command). */
  close(): void;
}

/**
 * Open a session on a daemon connection and relay stdio with credit flow control. `exited`
 * resolves with the remote exit status once all output has been written locally, and
 * rejects when the daemon reports an error or the connection drops mid-session.
 */
export async function openDaemonSession(
  daemon: DaemonConnection,
  open: OpenMessage,
  io: SessionIo,
  /** With `open.waitAfterAuth`: runs once the daemon has authenticated, before the command starts. */
  afterAuthentication?: () => Promise<void>,
  /** What the connect has to tell the user (the server's banner), as the daemon relays it. */
  onNotice?: (text: string) => void,
  /** With `open.agent`: the server opened an agent channel; claim `id` (client-forward.ts) or refuse it. */
  onAgent?: (id: string, refuse: () => void) => void,
): Promise<ClientSession> {
  const { conn } = daemon;
  conn.send({ type: FrameType.Open, body: open });
  // Opening includes connecting, authenticating and waiting for a free channel in the pool,
  // which can take as long as other sessions run: no deadline here (a dead daemon closes the socket).
  const next = async (): Promise<Frame> => {
    for (;;) {
      const frame = await nextFrame(conn, undefined);
      if (frame.type !== FrameType.Notice) return frame;
      if (typeof frame.body.text === 'string') onNotice?.(frame.body.text);
    }
  };
  let first = await next();
  if (first.type === FrameType.Authenticated && open.waitAfterAuth === true) {
    await afterAuthentication?.();
    conn.send({ type: FrameType.Proceed, body: {} });
    first = await next();
  }
  if (first.type === FrameType.Error) {
    conn.destroy();
    throw new DaemonReportedError(first.body);
  }
  if (first.type !== FrameType.Opened) {
    conn.destroy();
    throw new ProtocolError(`expected an opened frame, got type ${first.type}`);
  }
  const send = (f: Frame): void => conn.send(f);
  const out = new CreditSource(1, io.stdout, send);
  const err = new CreditSource(2, io.stderr, send);
  const stdinSink = new CreditSink(0, send);
  if (io.stdin) {
    pipeline(io.stdin, stdinSink).catch(() => {
      // Local stdin failing (closed terminal) ends the remote's stdin, as ssh does.
      conn.send({ type: FrameType.Eof, stream: 0 });
    });
  } else {
    stdinSink.end();
  }

  const exited = new Promise<ExitMessage>((resolve, reject) => {
    let exit: ExitMessage | undefined;
    conn.onFrame((f) => {
      switch (f.type) {
        case FrameType.Data:
          if (f.stream === 1) out.write(f.data);
          else if (f.stream === 2) err.write(f.data);
          return;
        case FrameType.Window:
          if (f.stream === 0) stdinSink.grant(f.credit);
          return;
        case FrameType.Eof:
          return;
        case FrameType.Incoming: {
          const id = String(f.body.id);
          const refuse = (): void => conn.send({ type: FrameType.Refuse, body: { id } });
          if (onAgent) onAgent(id, refuse);
          else refuse();
          return;
        }
        case FrameType.Exit:
          exit = f.body;
          return;
        case FrameType.Error:
          reject(new DaemonReportedError(f.body));
          return;
        default:
          reject(new ProtocolError(`unexpected frame type ${f.type} during a session`));
          conn.destroy();
      }
    });
    conn.onClose((e) => {
      stdinSink.destroy();
      io.stdin?.unpipe();
      if (exit) {
        Promise.all([out.flushed(), err.flushed()]).then(() => resolve(exit!), reject);
        return;
      }
      reject(
        new NetworkError(
          `lost the connection to the sshmux daemon (pid ${daemon.pid}) during the session` +
            (e ? `: ${e.message}` : ''),
          { code: 'SSHMUX_ERR_MUX_LOST', cause: e },
        ),
      );
    });
  });
  return {
    exited,
    signal: (name) => conn.send({ type: FrameType.Signal, body: { signal: name } }),
    resize: (size) => {
      if (!conn.closed) conn.send({ type: FrameType.Resize, body: { rows: size.rows, cols: size.cols } });
    },
    rekey: () => {
      if (!conn.closed) conn.send({ type: FrameType.Rekey, body: {} });
    },
    sendBreak: (ms) => {
      if (!conn.closed) conn.send({ type: FrameType.Break, body: { ms } });
    },
    close: () => conn.destroy(),
  };
}
