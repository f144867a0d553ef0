import type { Channel, Client } from 'ssh2';
import { ChannelError, NetworkError } from '../errors.js';

/** Where the server listens for us: a TCP address and port (0: the server picks), or a Unix socket path. */
export type RemoteBind =
  | {
      /** Address the server listens on (`''` or `0.0.0.0` for all, as GatewayPorts allows). */
      readonly address: string;
      /** Port; 0 lets the server choose. */
      readonly port: number;
    }
  | {
      /** A Unix socket path on the server. */
      readonly path: string;
    };

/** One connection the server accepted on a listener and offers us as a channel. */
export interface IncomingConnection {
  /** Who connected to the server's listener (empty for a Unix socket). */
  readonly originAddress: string;
  /** Its source port (0 for a Unix socket). */
  readonly originPort: number;
  /** Confirm the channel: it carries the bytes both ways. */
  accept(): Channel;
  /** Refuse it (the server closes the connection it accepted). */
  reject(): void;
}

/** Called for each connection a listener accepted. */
export type IncomingHandler = (incoming: IncomingConnection) => void;

/** A listener the server holds for us; `close()` cancels it (cancel-tcpip-forward). */
export interface RemoteListener {
  /** The port the server listens on (the allocated one for port 0); -2 for a Unix socket. */
  readonly port: number;
  /** Cancel the listener on the server. */
  close(): Promise<void>;
}

interface IncomingInfo {
  destIP?: string;
  destPort?: number;
  srcIP?: string;
  srcPort?: number;
  socketPath?: string;
}

function tcpKey(address: string, port: number): string {
  return `tcp:${address}:${port}`;
}

/**
 * The remote listeners of one ssh2 client, each tied to the handler of whoever asked for it.
 * A channel the server opens goes to the listener it names, and only to it; one naming no
 * listener of ours is refused. Two owners asking for the same listener on one connection:
 * the second is refused here, as the server would refuse the bind.
 */
export class RemoteListeners {
  readonly #client: Client;
  readonly #destination: string;
  readonly #handlers = new Map<string, IncomingHandler>();
  /** Cancels waiting for the server's answer: settled by the answer or by the connection's end. */
  readonly #cancelling = new Set<() => void>();

  constructor(client: Client, destination: string) {
    this.#client = client;
    this.#destination = destination;
    const route =
      (key: (info: IncomingInfo) => string) =>
      (info: IncomingInfo, accept: () => Channel, reject: () => void): void => {
        const handler = this.#handlers.get(key(info));
        if (handler === undefined) {
          reject();
          return;
        }
        handler({ originAddress: info.srcIP ?? '', originPort: info.srcPort ?? 0, accept, reject });
      };
    client.on(
      'tcp connection',
      route((info) => tcpKey(info.destIP ?? '', info.destPort ?? -1)),
    );
    client.on(
      'unix connection',
      route((info) => `unix:${info.socketPath ?? ''}`),
    );
  }

  /** Ask the server to listen (tcpip-forward / streamlocal-forward@openssh.com) and route its channels to `handler`. */
  listen(bind: RemoteBind, handler: IncomingHandler): Promise<RemoteListener> {
    const refused = (what: string, cause?: unknown): ChannelError =>
      new ChannelError(`The server refused to listen on ${what} for us`, {
        destination: this.#destination,
        code: 'SSHMUX_ERR_FORWARD_REFUSED',
        cause,
      });
    return new Promise<RemoteListener>((resolve, reject) => {
      try {
        if ('path' in bind) {
          const key = `unix:${bind.path}`;
          if (this.#handlers.has(key)) throw refused(bind.path);
          this.#client.openssh_forwardInStreamLocal(bind.path, (err) => {
            if (err) return reject(refused(bind.path, err));
            this.#handlers.set(key, handler);
            resolve(
              this.#listener(key, -2, (cb) => this.#client.openssh_unforwardInStreamLocal(bind.path, cb)),
            );
          });
          return;
        }
        const shown = `${bind.address}:${bind.port}`;
        if (bind.port !== 0 && this.#handlers.has(tcpKey(bind.address, bind.port))) throw refused(shown);
        this.#client.forwardIn(bind.address, bind.port, (err, port) => {
          if (err) return reject(refused(shown, err));
          const key = tcpKey(bind.address, port);
          // The server allocated a port another owner already holds (it cannot, but never cross-deliver).
          if (this.#handlers.has(key)) return reject(refused(`${bind.address}:${port}`));
          this.#handlers.set(key, handler);
          resolve(this.#listener(key, port, (cb) => this.#client.unforwardIn(bind.address, port, cb)));
        });
      } catch (err) {
        // ssh2 throws when the transport is gone.
        reject(
          err instanceof ChannelError
            ? err
            : new NetworkError('Connection is closed', { destination: this.#destination, cause: err }),
        );
      }
    });
  }

  #listener(key: string, port: number, cancel: (cb: (err?: Error | null) => void) => void): RemoteListener {
    let closing: Promise<void> | undefined;
    return {
      port,
      close: () => {
        closing ??= new Promise<void>((resolve) => {
          // From now on its channels are refused, whatever the server answers to the cancel.
          this.#handlers.delete(key);
          const done = (): void => {
            this.#cancelling.delete(done);
            resolve();
          };
          this.#cancelling.add(done);
          try {
            cancel(done);
          } catch {
            done(); // the connection is gone, and the listener with it
          }
        });
        return closing;
      },
    };
  }

  /** The connection closed: every listener went with it. */
  clear(): void {
    this.#handlers.clear();
    for (const done of [...this.#cancelling]) done();
  }
}
