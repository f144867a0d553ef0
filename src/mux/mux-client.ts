import { spawn } from 'node:child_process';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalError, NetworkError } from '../errors.js';
import { classifyConnectError } from './connect-error.js';
import { daemonEnvironment } from './daemon-env.js';
import type { MuxEndpoint } from './endpoint.js';
import { FramedSocket } from './framed-socket.js';
import { helloProof, isNonce, newNonce, proofMatches } from './hello-proof.js';
import { currentSocketPath } from './pipe-name.js';
import {
  type ChallengeMessage,
  type ControlMessage,
  type ControlResultMessage,
  checkWelcome,
  type ErrorMessage,
  type Frame,
  FrameType,
  PROTOCOL_VERSION,
  ProtocolError,
} from './protocol.js';

/** No daemon serves the endpoint (no token, no socket, or a stale socket). */
export class DaemonNotRunningError extends LocalError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'SSHMUX_ERR_MUX_NOT_RUNNING', cause, retryable: true });
  }
}

/** The daemon answered with an error frame: its kind and code travel as they were. */
export class DaemonReportedError extends LocalError {
  readonly remote: ErrorMessage;
  constructor(remote: ErrorMessage) {
    super(remote.message, { code: remote.code });
    this.remote = remote;
  }
}

/** A connection to the daemon that passed the hello exchange. */
export interface DaemonConnection {
  readonly conn: FramedSocket;
  readonly pid: number;
}

const NOT_RUNNING_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ECONNRESET', 'EPIPE']);

/** Wait for the next frame (or the end of the connection); `timeoutMs` undefined waits as long as it takes. */
export function nextFrame(conn: FramedSocket, timeoutMs: number | undefined = 30_000): Promise<Frame> {
  return new Promise((resolve, reject) => {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            // First: destroying runs the close listener below, which would say "closed" instead.
            reject(new NetworkError(`the sshmux daemon did not answer within ${timeoutMs} ms`));
            conn.destroy();
          }, timeoutMs);
    conn.onFrame((f) => {
      clearTimeout(timer);
      conn.onFrame(undefined);
      resolve(f);
    });
    conn.onClose((err) => {
      clearTimeout(timer);
      reject(
        err && NOT_RUNNING_CODES.has((err as NodeJS.ErrnoException).code ?? '')
          ? new DaemonNotRunningError(`no sshmux daemon answers (${(err as Error).message})`, err)
          : (err ?? new NetworkError('the sshmux daemon closed the connection')),
      );
    });
  });
}

/**
 * Whatever holds the endpoint did not prove it knows this user's token (wrong proof, no
 * proof, an error instead of one, or silence): it may be another user's trap on a pipe name
 * or socket path, so nothing is sent to it and the caller connects in-process.
 */
export class UntrustedEndpointError extends LocalError {
  constructor(endpoint: MuxEndpoint, why: string, cause?: unknown) {
    super(
      `the sshmux endpoint ${endpoint.socketPath} did not prove it is this user's daemon (${why}); not using it`,
      { code: 'SSHMUX_ERR_MUX_UNTRUSTED', cause },
    );
  }
}

/** How long whatever holds the endpoint has to prove itself; the real daemon answers at once. */
const CHALLENGE_TIMEOUT_MS = 5_000;

export interface ConnectDaemonOptions {
  /** Accept a daemon of another sshmux version (control requests only: `-O check|exit|stop`). */
  anyVersion?: boolean;
  /** How long the endpoint has to prove itself. @default 5000 */
  challengeTimeoutMs?: number;
}

/**
 * Connect and authenticate both ways (src/mux/hello-proof.ts): the daemon proves the token
 * first, and only then does the client prove it. Fails with `DaemonNotRunningError` when
 * nobody serves, `UntrustedEndpointError` when the endpoint cannot prove it is the daemon.
 */
export async function connectDaemon(
  endpoint: MuxEndpoint,
  version: string,
  options: ConnectDaemonOptions = {},
): Promise<DaemonConnection> {
  let token: string;
  try {
    token = (await readFile(endpoint.tokenFile, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DaemonNotRunningError('no sshmux daemon has run here yet', err);
    throw new LocalError(`Cannot read the sshmux token ${endpoint.tokenFile}`, { cause: err });
  }
  const socketPath = await currentSocketPath(endpoint);
  if (socketPath === undefined) throw new DaemonNotRunningError('no sshmux daemon listens here');
  const socket = net.connect(socketPath);
  const conn = new FramedSocket(socket);
  const clientNonce = newNonce();
  conn.send({ type: FrameType.Hello, body: { protocol: PROTOCOL_VERSION, version, nonce: clientNonce } });
  const challenge = await provenChallenge(
    conn,
    { ...endpoint, socketPath },
    token,
    clientNonce,
    options.challengeTimeoutMs,
  );
  if (!options.anyVersion) {
    try {
      checkWelcome(challenge, version);
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }
  conn.send({
    type: FrameType.Auth,
    body: { proof: helloProof(token, 'client', clientNonce, challenge.nonce) },
  });
  const frame = await nextFrame(conn);
  if (frame.type === FrameType.Error) {
    conn.destroy();
    throw new DaemonReportedError(frame.body);
  }
  if (frame.type !== FrameType.Welcome) {
    conn.destroy();
    throw new ProtocolError(`expected a welcome frame, got type ${frame.type}`);
  }
  return { conn, pid: frame.body.pid };
}

/** A connect error as sshmux reports it: not running (start one), refused, or passed on. */
function connectFailure(err: unknown, socketPath: string): unknown {
  const failure = classifyConnectError(err instanceof DaemonNotRunningError ? err.cause : err, socketPath);
  if (failure === undefined) return err;
  if (failure.notServing) return new DaemonNotRunningError(failure.message, err);
  return new LocalError(failure.message, { code: 'SSHMUX_ERR_MUX_CONNECT', cause: err });
}

/** The daemon's CHALLENGE, once its proof checked out; anything else refuses the endpoint. */
async function provenChallenge(
  conn: FramedSocket,
  endpoint: MuxEndpoint,
  token: string,
  clientNonce: string,
  timeoutMs = CHALLENGE_TIMEOUT_MS,
): Promise<ChallengeMessage> {
  let frame: Frame;
  try {
    frame = await nextFrame(conn, timeoutMs);
  } catch (err) {
    // The connect itself failed (no daemon, access denied, …): classified, not "no proof".
    const failure = connectFailure(err, endpoint.socketPath);
    if (failure !== err || err instanceof DaemonNotRunningError) throw failure;
    throw new UntrustedEndpointError(endpoint, `no proof: ${(err as Error).message}`, err);
  }
  const refuse = (why: string): never => {
    conn.destroy();
    throw new UntrustedEndpointError(endpoint, why);
  };
  if (frame.type === FrameType.Error) {
    // Unproven, so only a hint: an older daemon (another protocol) answers a hello this way.
    return refuse(`it answered with an error instead: ${frame.body.message}`);
  }
  if (frame.type !== FrameType.Challenge) return refuse(`it answered with frame type ${frame.type}`);
  const c = frame.body;
  if (!isNonce(c.nonce) || c.nonce === clientNonce) return refuse('its nonce is not valid');
  if (!proofMatches(token, 'daemon', clientNonce, c.nonce, c.proof)) return refuse('wrong proof');
  return c;
}

export interface EnsureDaemonOptions {
  version: string;
  /**
   * Starts a daemon process; called at most once. It may return a promise of the process's
   * exit code, so a daemon that fails at start-up is noticed at once instead of at the deadline.
   */
  start: () => Promise<number | null> | undefined;
  /** How long to wait for a started daemon to answer. @default 15000 */
  timeoutMs?: number;
}

/** Connect to the daemon, starting one if none answers; `started` tells whether we started it. */
export async function ensureDaemon(
  endpoint: MuxEndpoint,
  options: EnsureDaemonOptions,
): Promise<DaemonConnection & { started: boolean }> {
  try {
    return { ...(await connectDaemon(endpoint, options.version)), started: false };
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
  }
  let failedWith: number | null | undefined;
  if (await claimSpawn(endpoint.spawnFile)) {
    // Exit code 0 means "another daemon serves": keep connecting. Anything else is a failed start.
    options.start()?.then((code) => {
      if (code !== 0) failedWith = code;
    });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let delay = 20;
  for (;;) {
    await sleep(delay);
    try {
      return { ...(await connectDaemon(endpoint, options.version)), started: true };
    } catch (err) {
      if (!(err instanceof DaemonNotRunningError)) throw err;
      if (failedWith !== undefined) {
        // Let the next invocation try again rather than wait for a daemon that is not coming.
        await unlink(endpoint.spawnFile).catch(() => {});
        throw new LocalError(
          `the sshmux daemon failed to start (exit code ${String(failedWith)}); see ${endpoint.logFile}`,
          { code: 'SSHMUX_ERR_MUX_START', cause: err },
        );
      }
      if (Date.now() > deadline) throw err;
    }
    delay = Math.min(delay * 2, 200);
  }
}

/** A claim older than this is from a daemon that never came up: take it over. */
const SPAWN_CLAIM_MS = 10_000;

/**
 * Claim the right to start the daemon: the first of many clients arriving together creates
 * the marker and starts it; the others just wait for it to answer. The daemon removes the
 * marker once it listens, so a later crash is restarted at once.
 */
export async function claimSpawn(file: string, now = Date.now()): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true;
    }
    const st = await stat(file).catch(() => undefined);
    if (st && now - st.mtimeMs < SPAWN_CLAIM_MS) return false;
    await unlink(file).catch(() => {});
  }
  return false;
}

/** Start the daemon script detached from us, as a background process of the same user. */
export function spawnDaemon(script: string, args: string[], cwd: string): Promise<number | null> {
  // Its own working directory: the first client's may be deleted while the daemon lives on.
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: daemonEnvironment(process.env),
    detached: true,
    stdio: 'ignore',
    windowsHide: true,
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    // Could not even run node: a failed start like any other.
    child.on('error', () => resolve(null));
  });
  child.unref();
  return exited;
}

/** Send a control request (`-O check|exit|stop`) and read the reply. */
export async function sendControl(
  daemon: DaemonConnection,
  message: ControlMessage,
): Promise<ControlResultMessage> {
  daemon.conn.send({ type: FrameType.Control, body: message });
  const frame = await nextFrame(daemon.conn);
  daemon.conn.end();
  if (frame.type === FrameType.Error) throw new DaemonReportedError(frame.body);
  if (frame.type !== FrameType.ControlResult) {
    throw new ProtocolError(`expected a control result, got frame type ${frame.type}`);
  }
  return frame.body;
}
