import type { Duplex } from 'node:stream';
import { sshConfigError } from '../config/ssh-error.js';
import type { RemoteBind, RemoteListener } from '../pool/types.js';
import { connectLocalTarget } from './local-target.js';
import { type RemoteOpenPolicy, serveRemoteSocks } from './remote-dynamic.js';
import {
  allocatedPortLine,
  forwardFailedLine,
  portAllocated,
  type RemoteForwardSpec,
} from './remote-spec.js';

/** A connection a remote listener offers; `accept` may take a moment (the daemon relays it). */
export interface Offer {
  /** Take the connection: the stream to the local target. */
  accept(): Duplex | Promise<Duplex>;
  /** Refuse it. */
  reject(): void;
}

/** Asks the server to listen (on the pooled connection, or through the daemon) and routes its connections. */
export type ListenFn = (bind: RemoteBind, onOffer: (offer: Offer) => void) => Promise<RemoteListener>;

/** ssh's log: `info` lines are logit() (hidden below LogLevel INFO), `error` lines error(). */
export interface ForwardLog {
  /** A line ssh prints as information (`Allocated port …`). */
  info(line: string): void;
  /** A line ssh prints as an error (`connect_to … failed`). */
  error(line: string): void;
}

/** Options of `RemoteForwards`. */
export interface RemoteForwardsOptions {
  /** ExitOnForwardFailure: a refused forward ends the session before it starts. @default false */
  readonly exitOnFailure: boolean;
  /** Where ssh's lines go. */
  readonly log: ForwardLog;
  /** PermitRemoteOpen: where remote dynamic forwards may connect. @default 'any' */
  readonly permitRemoteOpen?: RemoteOpenPolicy;
}

/** The server said no to a listener (the pool's, or relayed by the daemon with the same code). */
function isRefusal(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === REFUSED_CODE;
}

export const REFUSED_CODE = 'SSHMUX_ERR_FORWARD_REFUSED';

/** The remote forwards of one session; `close()` cancels them on the server. */
export class RemoteForwards {
  readonly #listeners: RemoteListener[];

  private constructor(listeners: RemoteListener[]) {
    this.#listeners = listeners;
  }

  /** The listeners the server holds, in the order the forwards were given. */
  get listeners(): readonly RemoteListener[] {
    return this.#listeners;
  }

  /**
   * Request every forward at once, then report the answers in order, as ssh does: the port the
   * server picked for port 0, a warning for a refusal, or, with ExitOnForwardFailure, ssh's
   * error (thrown, worded as ssh's) after cancelling the forwards that succeeded.
   */
  static async start(
    specs: readonly RemoteForwardSpec[],
    listen: ListenFn,
    options: RemoteForwardsOptions,
  ): Promise<RemoteForwards> {
    const { log } = options;
    const pending = specs.map((spec) =>
      listen(spec.bind, (offer) => {
        const offered = { accept: () => offer.accept(), reject: () => offer.reject() };
        const target = spec.target;
        if ('socks' in target)
          serveRemoteSocks(offered, options.permitRemoteOpen ?? 'any', (line) => log.error(line));
        else connectLocalTarget(target, offered, (line) => log.error(line));
      }).then(
        (listener) => ({ spec, listener }),
        (err: unknown) => ({ spec, err }),
      ),
    );
    const settled = await Promise.all(pending);
    const listeners: RemoteListener[] = [];
    // Only the server's refusal is a failed forward; anything else (no connection) fails the session.
    const broken = settled.find((r) => 'err' in r && !isRefusal(r.err));
    if (broken !== undefined && 'err' in broken) {
      await Promise.all(settled.map((r) => ('listener' in r ? r.listener.close() : undefined)));
      throw broken.err;
    }
    let fatal: string | undefined;
    for (const result of settled) {
      if ('listener' in result) {
        listeners.push(result.listener);
        if (portAllocated(result.spec)) log.info(allocatedPortLine(result.spec, result.listener.port));
      } else if (options.exitOnFailure) {
        fatal ??= forwardFailedLine(result.spec, true);
      } else {
        log.info(forwardFailedLine(result.spec, false));
      }
    }
    const forwards = new RemoteForwards(listeners);
    if (fatal !== undefined) {
      await forwards.close();
      throw sshConfigError(fatal, { logged: true });
    }
    return forwards;
  }

  /** Cancel every forward (cancel-tcpip-forward / cancel-streamlocal-forward). Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.#listeners.map((l) => l.close()));
  }
}
