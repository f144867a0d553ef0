/**
 * The wire protocol between `sshmux ssh` and the per-user daemon: length-prefixed frames
 * `[u32 length][u8 type][payload]`, where length counts the type byte and the payload.
 * Control frames carry JSON, data frames carry a stream byte and raw bytes, window frames a
 * stream byte and a u32 credit. Flow control is credit based per stream: a sender never
 * sends more DATA bytes on a stream than the receiver granted, so neither side buffers
 * without bound when the other (or the remote) is slow.
 */
import { SshmuxError } from '../errors.js';
import type { ChannelOrigin, ChannelTarget } from '../pool/channel-target.js';
import type { PtyOptions, SessionKind } from '../pool/types.js';

/** Bumped on any incompatible change; the hello exchange refuses a different one. */
/**
 * 2: OPEN may ask for AUTHENTICATED/PROCEED around the command (LocalCommand).
 * 3: NOTICE carries the server's pre-authentication banner to the client that is opening.
 * 4: OPEN says what the session runs (`kind`); RESIZE carries window changes (issue 14's client).
 * 5: the token never travels: HELLO carries a nonce, the daemon proves the token first
 *    (CHALLENGE), the client answers (AUTH) — see src/mux/hello-proof.ts.
 */
export const PROTOCOL_VERSION = 5;

/** No frame may be larger than this (type byte + payload); a bigger length is a protocol error. */
export const MAX_FRAME = 1024 * 1024;
/** DATA payloads are cut to this size so control frames interleave. */
export const MAX_DATA = 64 * 1024;
/** Credit each side grants per stream up front. */
export const INITIAL_WINDOW = 1024 * 1024;

export const FrameType = {
  Hello: 1,
  Welcome: 2,
  Open: 3,
  Opened: 4,
  Data: 5,
  Window: 6,
  Eof: 7,
  Exit: 8,
  Signal: 9,
  Error: 10,
  Control: 11,
  ControlResult: 12,
  /** Daemon → client: connected and authenticated; the command waits for PROCEED. */
  Authenticated: 13,
  /** Client → daemon: start the command now. */
  Proceed: 14,
  /** Daemon → client, while opening: text ssh would print on stderr (the server's banner). */
  Notice: 15,
  /** Client → daemon, during a pty session: the local terminal's new size (SIGWINCH). */
  Resize: 16,
  /** Client → daemon, during a session: start a key re-exchange on its connection (`~R`). */
  Rekey: 17,
  /** Client → daemon, during a session: send a BREAK on the session's channel (`~B`). */
  Break: 18,
  /** Client → daemon, instead of OPEN: have the server listen for us (a remote forward, -R). */
  Listen: 30,
  /** Daemon → client, answer to LISTEN: the server listens (on `port`, the allocated one for 0). */
  Listening: 31,
  /** Daemon → client, on a LISTEN connection: the server offers a connection; claim it with ACCEPT. */
  Incoming: 32,
  /** Client → daemon, instead of OPEN, on a connection of its own: carry the offered connection `id`. */
  Accept: 33,
  /** Client → daemon, on a LISTEN connection: our local target refused, refuse the offered `id`. */
  Refuse: 34,
  /** Daemon → client, answer to HELLO: its nonce and its proof of the token over both nonces. */
  Challenge: 35,
  /** Client → daemon, answer to a good CHALLENGE: the client's proof of the token. */
  Auth: 36,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/** Stream numbers as in file descriptors. */
export type StreamId = 0 | 1 | 2;

/** Client → daemon, first frame: who we are and a fresh nonce for the daemon to prove the token over. */
export interface HelloMessage {
  protocol: number;
  version: string;
  nonce: string;
}

/** Daemon → client, answer to a hello: who it is, its nonce, and its proof (see hello-proof.ts). */
export interface ChallengeMessage {
  protocol: number;
  version: string;
  pid: number;
  nonce: string;
  proof: string;
}

/** Daemon → client, answer to a good AUTH. */
export interface WelcomeMessage {
  protocol: number;
  version: string;
  pid: number;
}

/** Client → daemon: run a command on a destination. */
export interface OpenMessage {
  /** The resolved HostConfig, as the client resolved it (config files are read per request). */
  host: Record<string, unknown>;
  /**
   * What the session runs; `command` is the subsystem's name for `subsystem`. `direct` opens a
   * forwarding channel to `target` instead (-L, -D, -W): bytes on streams 0 and 1; `none`: no
   * session, the connection held (-N). @default 'exec'
   */
  kind?: SessionKind | 'direct' | 'none';
  /** For `direct`: where the channel goes on the server side. */
  target?: ChannelTarget;
  /** For `direct`: the originator the `direct-tcpip` open names (the accepted peer). */
  origin?: ChannelOrigin;
  /** The remote command line, exactly as ssh would send it. */
  command: string;
  /** Environment to send as SSH `env` requests. */
  env: Record<string, string>;
  /** Ask for a pseudo-terminal (`-t`): false, or its type and size. */
  pty: boolean | PtyOptions;
  cwd: string;
  /** Forward the client's agent (-A): agent channels are offered to it with INCOMING frames. */
  agent?: boolean;
  /** Stop after authenticating (AUTHENTICATED) until the client says PROCEED, as ssh runs LocalCommand. */
  waitAfterAuth?: boolean;
}

export interface ExitMessage {
  code: number | null;
  signal: string | null;
}

export interface ErrorMessage {
  kind: string;
  code: string;
  message: string;
}

export type ControlOp = 'check' | 'exit' | 'stop';

export interface ControlMessage {
  op: ControlOp;
  /** For `check`: `user@hostname:port` whose pooled connections to count. */
  destination?: string;
}

export interface ControlResultMessage {
  pid: number;
  version: string;
  sessions: number;
  accepting: boolean;
  /** For `check` with a destination: open connections to it. */
  connections?: number;
}

/** Client → daemon: a remote forward's listener on `host` (see src/mux/forward-relay.ts). */
export interface ListenMessage {
  host: Record<string, unknown>;
  bind: { address: string; port: number } | { path: string };
}

export interface IncomingMessage {
  /** Unguessable: only the client that holds the listener learns it. */
  id: string;
  originAddress: string;
  originPort: number;
}

export type Frame =
  | { type: typeof FrameType.Hello; body: HelloMessage }
  | { type: typeof FrameType.Welcome; body: WelcomeMessage }
  | { type: typeof FrameType.Challenge; body: ChallengeMessage }
  | { type: typeof FrameType.Auth; body: { proof: string } }
  | { type: typeof FrameType.Open; body: OpenMessage }
  | { type: typeof FrameType.Opened; body: Record<string, never> }
  | { type: typeof FrameType.Data; stream: StreamId; data: Buffer }
  | { type: typeof FrameType.Window; stream: StreamId; credit: number }
  | { type: typeof FrameType.Eof; stream: StreamId }
  | { type: typeof FrameType.Exit; body: ExitMessage }
  | { type: typeof FrameType.Signal; body: { signal: string } }
  | { type: typeof FrameType.Error; body: ErrorMessage }
  | { type: typeof FrameType.Control; body: ControlMessage }
  | { type: typeof FrameType.ControlResult; body: ControlResultMessage }
  | { type: typeof FrameType.Authenticated; body: Record<string, never> }
  | { type: typeof FrameType.Proceed; body: Record<string, never> }
  | { type: typeof FrameType.Notice; body: { text: string } }
  | { type: typeof FrameType.Resize; body: { rows: number; cols: number } }
  | { type: typeof FrameType.Rekey; body: Record<string, never> }
  | { type: typeof FrameType.Break; body: { ms: number } }
  | { type: typeof FrameType.Listen; body: ListenMessage }
  | { type: typeof FrameType.Listening; body: { port: number } }
  | { type: typeof FrameType.Incoming; body: IncomingMessage }
  | { type: typeof FrameType.Accept; body: { id: string } }
  | { type: typeof FrameType.Refuse; body: { id: string } };

/** A broken or hostile peer: wrong framing, oversize frame, bad JSON, version mismatch. */
export class ProtocolError extends SshmuxError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super('local', `sshmux daemon protocol: ${message}`, {
      code: options.code ?? 'SSHMUX_ERR_MUX_PROTOCOL',
      cause: options.cause,
      retryable: false,
    });
  }
}

function isStream(n: number): n is StreamId {
  return n === 0 || n === 1 || n === 2;
}

/** Encode one frame into a single buffer (header and payload). */
export function encodeFrame(frame: Frame): Buffer {
  let payload: Buffer;
  switch (frame.type) {
    case FrameType.Data:
      payload = Buffer.concat([Buffer.of(frame.stream), frame.data]);
      break;
    case FrameType.Window:
      payload = Buffer.alloc(5);
      payload[0] = frame.stream;
      payload.writeUInt32BE(frame.credit, 1);
      break;
    case FrameType.Eof:
      payload = Buffer.of(frame.stream);
      break;
    default:
      payload = Buffer.from(JSON.stringify(frame.body), 'utf8');
  }
  if (payload.length + 1 > MAX_FRAME) {
    throw new ProtocolError(`frame of ${payload.length + 1} bytes exceeds the ${MAX_FRAME}-byte limit`, {
      code: 'SSHMUX_ERR_MUX_OVERSIZE',
    });
  }
  const header = Buffer.alloc(5);
  header.writeUInt32BE(payload.length + 1, 0);
  header[4] = frame.type;
  return Buffer.concat([header, payload]);
}

function decodeBody(type: number, payload: Buffer): Frame {
  switch (type) {
    case FrameType.Data: {
      const stream = payload[0];
      if (stream === undefined || !isStream(stream))
        throw new ProtocolError('DATA frame without a valid stream');
      return { type, stream, data: payload.subarray(1) };
    }
    case FrameType.Window: {
      const stream = payload[0];
      if (payload.length !== 5 || stream === undefined || !isStream(stream)) {
        throw new ProtocolError('malformed WINDOW frame');
      }
      return { type, stream, credit: payload.readUInt32BE(1) };
    }
    case FrameType.Eof: {
      const stream = payload[0];
      if (payload.length !== 1 || stream === undefined || !isStream(stream)) {
        throw new ProtocolError('malformed EOF frame');
      }
      return { type, stream };
    }
    default: {
      // Every other frame carries one JSON object; a type this version does not know is an error.
      if (!KNOWN_TYPES.has(type)) throw new ProtocolError(`unknown frame type ${type}`);
      let body: unknown;
      try {
        body = JSON.parse(payload.toString('utf8'));
      } catch (err) {
        throw new ProtocolError(`frame type ${type} carries invalid JSON`, { cause: err });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ProtocolError(`frame type ${type} must carry a JSON object`);
      }
      return { type, body } as Frame;
    }
  }
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(FrameType));

/**
 * Incremental decoder: feed it socket chunks of any size, get whole frames. A length over
 * `maxFrame` is rejected as soon as the header arrives, before any payload is buffered.
 */
export class FrameDecoder {
  readonly #maxFrame: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxFrame = MAX_FRAME) {
    this.#maxFrame = maxFrame;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.#buffered < 4) break;
      const head = this.#peek(4);
      const length = head.readUInt32BE(0);
      if (length < 1 || length > this.#maxFrame) {
        throw new ProtocolError(`frame length ${length} outside 1..${this.#maxFrame}`, {
          code: 'SSHMUX_ERR_MUX_OVERSIZE',
        });
      }
      if (this.#buffered < 4 + length) break;
      const whole = this.#take(4 + length);
      frames.push(decodeBody(whole[4]!, whole.subarray(5)));
    }
    return frames;
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0]!.length >= n) return this.#chunks[0]!.subarray(0, n);
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [all];
    return all.subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}

/** The daemon's check of a hello's protocol version: a client of another protocol cannot even prove. */
export function checkHelloProtocol(hello: HelloMessage, version: string): void {
  if (hello.protocol !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `version mismatch: client is sshmux ${String(hello.version)} (protocol ${String(hello.protocol)}), ` +
        `daemon is sshmux ${version} (protocol ${PROTOCOL_VERSION}); ` +
        'stop the old daemon with `sshmux ssh -O exit` of its own version, or end its process',
      { code: 'SSHMUX_ERR_MUX_VERSION' },
    );
  }
}

/** The client's check of the version a proven daemon announced. */
export function checkWelcome(
  welcome: Pick<WelcomeMessage, 'protocol' | 'version' | 'pid'>,
  version: string,
): void {
  if (welcome.protocol !== PROTOCOL_VERSION || welcome.version !== version) {
    throw new ProtocolError(
      `version mismatch: daemon (pid ${String(welcome.pid)}) is sshmux ${String(welcome.version)} ` +
        `(protocol ${String(welcome.protocol)}), this client is sshmux ${version} (protocol ${PROTOCOL_VERSION}); ` +
        'stop the old daemon with `sshmux ssh -O exit`',
      { code: 'SSHMUX_ERR_MUX_VERSION' },
    );
  }
}
