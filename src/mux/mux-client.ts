import { spawn } from 'node:child_process';
import { readFile, stat, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalError, NetworkError } from '../errors.js';
import { classifyConnectError } from './connect-error.js';
import type { MuxEndpoint } from './endpoint.js';
import { FramedSocket } from './framed-socket.js';
import { currentSocketPath } from './pipe-name.js';
import {
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
            conn.destroy();
            reject(new NetworkError(`the sshmux daemon did not answer within ${timeoutMs} ms`));
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

/** Connect and say hello with the token; fails with `DaemonNotRunningError` when nobody serves. */
export async function connectDaemon(endpoint: MuxEndpoint, version: string): Promise<DaemonConnection> {
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
  conn.send({ type: FrameType.Hello, body: { protocol: PROTOCOL_VERSION, version, token } });
  const frame = await nextFrame(conn).catch((err: unknown) => {
    throw connectFailure(err, socketPath);
  });
  if (frame.type === FrameType.Error) {
    conn.destroy();
    throw new DaemonReportedError(frame.body);
  }
  if (frame.type !== FrameType.Welcome) {
    conn.destroy();
    throw new ProtocolError(`expected a welcome frame, got type ${frame.type}`);
  }
  try {
    checkWelcome(frame.body, version);
  } catch (err) {
    conn.destroy();
    throw err;
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
