import type { Readable, Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { AbortedError, NetworkError, type SshmuxError, TimeoutError, translateError } from '../errors.js';
import { sendBreak } from './channel-break.js';
import { killJob } from './remote-kill.js';
import type { RemoteProcess } from './types.js';

/** How long a killed channel may stay open before the tracked job is ended from a second channel. */
const SIGNAL_GRACE_MS = 500;

/** The code of the error `exited` rejects with when the connection died under the process. */
export const CONNECTION_LOST = 'SSHMUX_ERR_CONNECTION_LOST';

export interface ChannelProcessOptions {
  command: string;
  destination: string;
  /** Milliseconds before the process is killed and `exited` rejects with `kind: timeout`. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Tells a dead transport from a channel the server closed. */
  connection: { readonly isClosed: boolean; readonly closeError: SshmuxError | undefined };
  /** Called once when the server has closed the channel: the slot is free again. */
  onClose: () => void;
  /**
   * A tracked command (`RunOptions.track`): its job id, and how to open a second exec channel
   * on the same connection to end it when a signal request does not.
   */
  job?: { id: string; open: (command: string) => Promise<ClientChannel> } | undefined;
}

interface ChannelInternals {
  outgoing?: { state: string; id: number };
  _client?: { _protocol?: { signal(id: number, name: string): void; rekey?(): void } };
}

/**
 * True when the server closed the channel (its CHANNEL_CLOSE arrived, so everything it sent
 * came before): ssh2 answers that with a close of its own, leaving the outgoing side 'closed'.
 * A channel ssh2 closes because the connection died stays 'open' or 'eof' on our side.
 */
function closedByServer(channel: ClientChannel): boolean {
  return (channel as unknown as ChannelInternals).outgoing?.state === 'closed';
}

/** ssh2 reports `SIGTERM`; sshmux (like the SSH wire format) says `TERM`. */
function bare(signal: string | undefined): string | null {
  if (!signal) return null;
  return signal.startsWith('SIG') ? signal.slice(3) : signal;
}

/**
 * Ask the server to signal the remote process. ssh2's `channel.signal()` is silently a no-op
 * once our side sent EOF (stdin ended), which is exactly when an exec waits on a long
 * command, so the request goes to the protocol directly while the channel is still open.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const c = channel as unknown as ChannelInternals;
  const state = c.outgoing?.state;
  if (state !== 'open' && state !== 'eof') return;
  try {
    c._client?._protocol?.signal(c.outgoing!.id, name);
  } catch {
    // Unknown signal names are rejected by ssh2; closing the channel still follows.
  }
}

/**
 * A remote command on an exec channel. The ssh2 channel is a real Duplex whose writes wait
 * for the SSH window, so `stdin`/`stdout` are the channel itself and backpressure holds end
 * to end. Read both stdout and stderr (they share the channel's window).
 */
export class ChannelProcess implements RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly command: string;
  readonly #channel: ClientChannel;
  readonly #options: ChannelProcessOptions;
  #failure: SshmuxError | undefined;
  #exit: { code: number | null; signal: string | null } | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #onAbort: (() => void) | undefined;

  constructor(channel: ClientChannel, options: ChannelProcessOptions) {
    this.#channel = channel;
    this.#options = options;
    this.command = options.command;
    this.stdin = channel;
    this.stdout = channel;
    this.stderr = channel.stderr;
    channel.on('exit', (code: number | null, signal?: string) => {
      this.#exit = typeof code === 'number' ? { code, signal: null } : { code: null, signal: bare(signal) };
    });
    const onError = (err: Error & { code?: string }): void => {
      // Writing stdin after the remote closed (`head -1` exits early) is not the command failing.
      if (err.code === 'ERR_STREAM_WRITE_AFTER_END' || err.code === 'ERR_STREAM_DESTROYED') return;
      this.#failure ??= translateError(err, options.destination, 'channel');
    };
    channel.on('error', onError);
    channel.stderr.on('error', onError);
    this.exited = new Promise((resolve, reject) => {
      // ssh2 repeats the exit status on 'close': an 'exit' that arrived in the same packet
      // batch as the open confirmation fired before anyone could listen.
      channel.once('close', (code?: number | null, signal?: string) => {
        if (typeof code === 'number') this.#exit ??= { code, signal: null };
        else if (code === null && signal) this.#exit ??= { code: null, signal: bare(signal) };
        this.#closed = true;
        this.#cleanup();
        options.onClose();
        if (this.#failure) reject(this.#failure);
        else if (options.connection.isClosed && (!this.#exit || !closedByServer(channel))) {
          // Also with an exit status: sshd can send it before the last output (it reaps the
          // child before it drains the pipe), so a connection cut between the two would
          // otherwise look like a command that printed nothing (issue 18's exit 0, empty stdout).
          const cause = options.connection.closeError;
          reject(
            cause?.kind === 'aborted'
              ? cause
              : new NetworkError(`Connection lost while running: ${options.command}`, {
                  code: CONNECTION_LOST,
                  destination: options.destination,
                  cause,
                }),
          );
        } else resolve(this.#exit ?? { code: null, signal: null });
      });
    });
    // A caller that only reads the streams must not crash the process with an unhandled rejection.
    this.exited.catch(() => {});
    if (options.timeout !== undefined) {
      this.#timer = setTimeout(
        () =>
          this.#fail(
            new TimeoutError(`Remote command timed out after ${options.timeout} ms: ${options.command}`, {
              destination: options.destination,
            }),
          ),
        options.timeout,
      );
    }
    const signal = options.signal;
    if (signal) {
      this.#onAbort = () =>
        this.#fail(
          new AbortedError(`Remote command aborted: ${options.command}`, {
            destination: options.destination,
            cause: signal.reason,
          }),
        );
      if (signal.aborted) this.#onAbort();
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * Send `signal` (default `TERM`) to the remote process and close the channel. sshd holds a
   * closed channel until its process exits; when a tracked one is still open after a moment
   * (the server ignored the signal), the job is ended from a second channel.
   */
  kill(signal = 'TERM'): void {
    if (this.#closed) return;
    sendSignal(this.#channel, signal);
    this.#channel.close();
    const job = this.#options.job;
    if (job && !this.#killTimer) {
      this.#killTimer = setTimeout(() => {
        if (this.#closed || this.#options.connection.isClosed) return;
        void killJob(job.open, job.id, bare(signal) ?? 'TERM');
      }, SIGNAL_GRACE_MS);
    }
  }

  hangUp(): void {
    if (this.#closed) return;
    this.#channel.close();
  }

  resize(size: { rows: number; cols: number }): void {
    if (this.#closed) return;
    // ssh sends the pixel size as 0 when it does not know it, as here.
    this.#channel.setWindow(size.rows, size.cols, 0, 0);
  }

  sendBreak(lengthMs = 1000): boolean {
    return !this.#closed && sendBreak(this.#channel, lengthMs);
  }

  rekey(): void {
    if (this.#closed) return;
    // ssh2's Client has no rekey(); its protocol object starts a KEXINIT (ignored mid-handshake).
    (this.#channel as unknown as ChannelInternals)._client?._protocol?.rekey?.();
  }

  /** Fail with `err`: kill the remote process and discard its output so the channel can close. */
  fail(err: SshmuxError): void {
    this.#fail(err);
  }

  #fail(err: SshmuxError): void {
    if (this.#closed) return;
    this.#failure ??= err;
    this.kill('KILL');
    // The channel's 'close' waits for stdout's 'end': nobody may read any more.
    this.#channel.resume();
    this.#channel.stderr.resume();
  }

  #cleanup(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#killTimer) clearTimeout(this.#killTimer);
    if (this.#onAbort) this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}
