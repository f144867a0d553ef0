import { unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Forward } from '../config/forward-spec.js';
import { isSshmuxError } from '../errors.js';
import type { ChannelOrigin, ChannelTarget } from '../pool/channel-target.js';
import type { ChannelIds } from './channel-ids.js';
import { type AddressFamily, listenAddresses } from './listen-addresses.js';
import { type ForwardChannel, relay } from './relay.js';
import { SocksHandshake } from './socks-handshake.js';
import { systemErrorText } from './system-error-text.js';

/** Opens the server-side channel for one accepted connection (the pool's, or the daemon's). */
export type ChannelOpener = (target: ChannelTarget, origin: ChannelOrigin) => Promise<ForwardChannel>;

export interface ForwardSetOptions {
  readonly open: ChannelOpener;
  /** ssh's error-level lines (bind failures, refused opens), one per call, without newline. */
  readonly error: (line: string) => void;
  readonly ids: ChannelIds;
  /** GatewayPorts: listeners without an address listen on every address. @default false */
  readonly gatewayPorts?: boolean;
  /** -4 / -6 (AddressFamily). @default 'any' */
  readonly family?: AddressFamily;
  /** StreamLocalBindMask: the umask a Unix-socket listener is created with. @default 0o177 */
  readonly streamLocalBindMask?: number;
  /** StreamLocalBindUnlink: remove an existing socket file before listening. @default false */
  readonly streamLocalBindUnlink?: boolean;
}

/** One forwarded connection, as `~#` lists it (channels.c channel_open_message). */
interface OpenEntry {
  readonly ctype: string;
  name: string;
  /** ssh's channel type number: 13 dynamic (SOCKS handshake), 3 opening, 4 open. */
  type: 13 | 3 | 4;
}

/** The socket names ssh prints for a Unix-socket peer (port_open_helper's fallback). */
function peerOf(socket: Socket): ChannelOrigin {
  return socket.remoteAddress && socket.remotePort !== undefined
    ? { address: socket.remoteAddress, port: socket.remotePort }
    : { address: '127.0.0.1', port: 65535 };
}

function targetOf(f: Forward): ChannelTarget {
  return f.connectPath !== undefined
    ? { path: f.connectPath }
    : { host: f.connectHost ?? '', port: f.connectPort };
}

/**
 * The local (-L, LocalForward) and dynamic (-D, DynamicForward) forwards of one ssh run: the
 * listeners live in this process, each accepted connection gets a channel of its own from
 * `open`, and failures print ssh's words and leave the other forwards and channels alone.
 */
export class ForwardSet {
  readonly #o: ForwardSetOptions;
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #open = new Map<number, OpenEntry>();
  #drainWaiters: (() => void)[] = [];
  #closed = false;

  constructor(options: ForwardSetOptions) {
    this.#o = options;
  }

  /** Forwarded connections open right now. */
  get connections(): number {
    return this.#open.size;
  }

  /** Listen for every forward, in order; how many could listen (ssh.c ssh_init_forwarding). */
  async addAll(forwards: readonly Forward[]): Promise<number> {
    let listening = 0;
    for (const f of forwards) if (await this.add(f)) listening++;
    return listening;
  }

  /** Listen for one forward; on failure ssh's lines are printed and false returned. */
  async add(f: Forward): Promise<boolean> {
    const servers = f.listenPath !== undefined ? await this.#listenUnix(f) : await this.#listenTcp(f);
    if (servers.length === 0) return false;
    for (const s of servers) {
      this.#o.ids.take();
      this.#servers.push(s);
      s.on('connection', (socket: Socket) => this.#accept(f, socket));
    }
    return true;
  }

  async #listenTcp(f: Forward): Promise<Server[]> {
    let addrs: string[];
    try {
      addrs = await listenAddresses(f.listenHost, this.#o.gatewayPorts ?? false, this.#o.family ?? 'any');
    } catch (err) {
      this.#o.error(
        `channel_setup_fwd_listener_tcpip: getaddrinfo(${f.listenHost}): ${systemErrorText(err)}`,
      );
      return [];
    }
    const bound: Server[] = [];
    for (const [i, address] of addrs.entries()) {
      const server = this.#server();
      try {
        await listen(server, () =>
          server.listen({ host: address, port: f.listenPort, ipv6Only: address.includes(':') }),
        );
        bound.push(server);
      } catch (err) {
        // ssh says it at error level for the last address only (verbose for the others).
        if (i === addrs.length - 1)
          this.#o.error(`bind [${address}]:${f.listenPort}: ${systemErrorText(err)}`);
      }
    }
    if (bound.length === 0) {
      this.#o.error(`channel_setup_fwd_listener_tcpip: cannot listen to port: ${f.listenPort}`);
    }
    return bound;
  }

  async #listenUnix(f: Forward): Promise<Server[]> {
    const path = f.listenPath!;
    if (this.#o.streamLocalBindUnlink) {
      try {
        unlinkSync(path);
      } catch {
        // Nothing there: nothing to remove.
      }
    }
    const server = this.#server();
    // The socket file's mode comes from the umask at bind time (misc.c unix_listener).
    const mask = process.umask(this.#o.streamLocalBindMask ?? 0o177);
    try {
      await listen(server, () => server.listen({ path }));
      return [server];
    } catch (err) {
      this.#o.error(`unix_listener: cannot bind to path ${path}: ${systemErrorText(err)}`);
      return [];
    } finally {
      process.umask(mask);
    }
  }

  #server(): Server {
    return createServer({ allowHalfOpen: true, pauseOnConnect: true });
  }

  #accept(f: Forward, socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const id = this.#o.ids.take();
    this.#sockets.add(socket);
    const dynamic = f.connectHost === 'socks' && f.connectPath === undefined && f.connectPort === 0;
    const entry: OpenEntry = dynamic
      ? { ctype: 'dynamic-tcpip', name: 'dynamic-tcpip', type: 13 }
      : { ctype: f.connectPath ? 'direct-streamlocal@openssh.com' : 'direct-tcpip', name: '', type: 3 };
    this.#open.set(id, entry);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#open.delete(id);
      this.#o.ids.free(id);
      this.#checkDrained();
    });
    socket.on('error', () => socket.destroy());
    if (dynamic) this.#socks(f, id, entry, socket);
    else this.#connect(f, id, entry, socket, targetOf(f), undefined);
  }

  #socks(f: Forward, id: number, entry: OpenEntry, socket: Socket): void {
    const handshake = new SocksHandshake();
    const onData = (chunk: Buffer): void => {
      const step = handshake.push(chunk);
      if (step.kind === 'more') {
        if (step.reply) socket.write(step.reply);
        return;
      }
      socket.off('data', onData);
      socket.off('end', onEnd);
      if (step.kind === 'refuse') {
        // ssh drops the connection without a word above debug level; other channels go on.
        socket.destroy();
        return;
      }
      socket.pause();
      socket.write(step.reply);
      const { host, port } = step.request;
      this.#connect(f, id, entry, socket, { host, port }, step.rest);
    };
    // A client that hangs up mid-handshake: nothing was opened, nothing to do.
    const onEnd = (): void => {
      socket.destroy();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.resume();
  }

  #connect(
    f: Forward,
    id: number,
    entry: OpenEntry,
    socket: Socket,
    target: ChannelTarget,
    first: Buffer | undefined,
  ): void {
    const origin = peerOf(socket);
    const to = 'path' in target ? `${target.path} port -2` : `${target.host} port ${target.port}`;
    const local =
      socket.localAddress && socket.localPort !== undefined
        ? `${socket.localAddress} port ${socket.localPort}`
        : `${f.listenPath} port -2`;
    const rtype = 'path' in target ? 'direct-streamlocal@openssh.com' : 'direct-tcpip';
    entry.name = `${rtype}: listening port ${f.listenPath ? -2 : f.listenPort} for ${to}, connect from ${origin.address} port ${origin.port} to ${local}`;
    entry.type = 3;
    this.#o.open(target, origin).then(
      (fwd) => {
        if (socket.destroyed || this.#closed) {
          fwd.close();
          return;
        }
        entry.type = 4;
        relay(socket, fwd, first).catch(() => {});
      },
      (err: unknown) => {
        const message = isSshmuxError(err) || err instanceof Error ? err.message : String(err);
        const worded = isSshmuxError(err) && err.code === 'SSHMUX_ERR_OPEN_FAILED';
        this.#o.error(`channel ${id}: ${worded ? message : `open failed: ${message}`}`);
        socket.destroy();
      },
    );
  }

  /**
   * `~#`: the open forwarded connections in ssh's shape (channel_open_message); `others` adds
   * channels the caller owns (the session), numbered as ssh numbers them.
   */
  listConnections(others: readonly { id: number; name: string; ctype: string }[] = []): string {
    const rows = [
      ...others.map((o) => ({ id: o.id, name: o.name, ctype: o.ctype, type: 4 })),
      ...[...this.#open].map(([id, e]) => ({ id, name: e.name, ctype: e.ctype, type: e.type })),
    ].sort((a, b) => a.id - b.id);
    return `The following connections are open:\r\n${rows
      .map((r) => `  #${r.id} ${r.name} (t${r.type} [${r.ctype}])\r\n`)
      .join('')}`;
  }

  /**
   * Resolves once no forwarded connection is opening or open (a SOCKS client still in its
   * handshake does not count): ssh's client loop ends only then (channel_still_open).
   */
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#checkDrained();
    });
  }

  #checkDrained(): void {
    if ([...this.#open.values()].some((e) => e.type !== 13)) return;
    for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Stop listening and close every forwarded connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#servers.splice(0)) s.close();
    for (const s of this.#sockets) s.destroy();
  }
}

/** Run `start` (a listen call) and settle on the server's first 'listening' or 'error'. */
function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    start();
  });
}
