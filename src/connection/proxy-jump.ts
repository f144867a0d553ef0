import type { Duplex } from 'node:stream';
import type { HostConfig } from '../config/host-config.js';
import { plainHostConfig } from '../config/plain.js';
import { ConfigError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type AuthProvider,
  Connection,
  type HostKeyVerifier,
  type SocketFactory,
  tcpSocket,
} from './connection.js';
import { type ProxyCommandOptions, proxyCommandSocket } from './proxy-command.js';
import { type HopLease, SharedHops } from './shared-hops.js';

type RefSocket = Duplex & { ref?: () => void; unref?: () => void };

/** Resolves one ProxyJump hop (`[user@]host[:port]` or an alias) to its own configuration. */
export type HopResolver = (hop: string, target: HostConfig) => Promise<HostConfig>;

/** Options of `proxyJumpSocketFactory`. */
export interface ProxyJumpOptions {
  /** Verifies each hop's host key. */
  hostKeyVerifier: HostKeyVerifier;
  /** Authenticates to each hop. */
  authProvider: AuthProvider;
  /** @default parseHopSpec + plainHostConfig, inheriting the target's key and known_hosts settings */
  resolve?: HopResolver;
  /** @default silent */
  logger?: Logger;
  /** How ProxyCommand processes start (the target's or the first hop's). @default their defaults */
  proxyCommand?: ProxyCommandOptions;
  /**
   * Each hop's pre-authentication banner (ssh prints every hop's: each hop is an ssh of its own),
   * with the host being reached through the hop.
   */
  onBanner?: (message: string, host: HostConfig) => void;
  /**
   * Share each hop among all connections this factory opens through it (one login on the
   * bastion, not one per target); a hop closes when the last connection through it does.
   * `false` gives every connection hops of its own, as separate ssh processes have. @default true
   */
  shareHops?: boolean;
}

/** Split `[user@]host[:port]` (host may be `[v6]`), as ssh -J accepts it. */
export function parseHopSpec(spec: string): {
  user: string | undefined;
  host: string;
  port: number | undefined;
} {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@[\]]+)(?::(\d+))?$/.exec(spec.replace(/^ssh:\/\//, ''));
  if (!m?.[2]) {
    throw new ConfigError(
      `Expected a ProxyJump hop as \`[user@]host[:port]\`, got \`${spec}\` (${typeof spec})`,
    );
  }
  const host = m[2].replace(/^\[(.*)\]$/, '$1');
  return { user: m[1], host, port: m[3] === undefined ? undefined : Number(m[3]) };
}

/**
 * The default hop resolver for callers without ssh_config: the hop's own host, port and
 * user, with the target's identity, agent and known_hosts settings.
 */
export const defaultHopResolver: HopResolver = async (hop, target) => {
  const { user, host, port } = parseHopSpec(hop);
  const base = plainHostConfig({ host, ...(port === undefined ? {} : { port }), ...(user ? { user } : {}) });
  return Object.freeze({
    ...base,
    identityFiles: target.identityFiles,
    identitiesOnly: target.identitiesOnly,
    identityAgent: target.identityAgent,
    strictHostKeyChecking: target.strictHostKeyChecking,
    userKnownHostsFiles: target.userKnownHostsFiles,
    globalKnownHostsFiles: target.globalKnownHostsFiles,
    hashKnownHosts: target.hashKnownHosts,
    batchMode: target.batchMode,
    connectTimeoutMs: target.connectTimeoutMs,
  });
};

/**
 * A `SocketFactory` for a host's whole route: its ProxyCommand when it has one; else through
 * each ProxyJump hop in turn — the first hop over its own route (TCP, or its own ProxyCommand
 * or hops, as ssh 9.2 lets only the first hop use them), every next one (and the target) over a
 * `direct-tcpip` channel of the previous. Hops come from `host.jumpHosts` (resolved through
 * ssh_config) or, for configs built without it, from `resolve`. Each hop is verified and
 * authenticated with its own config; hops are shared by the connections behind them (`shareHops`)
 * and close when the last stream through them closes, i.e. when the final connection closes. Without either it is plain TCP.
 */
export function proxyJumpSocketFactory(options: ProxyJumpOptions): SocketFactory {
  const resolve = options.resolve ?? defaultHopResolver;
  const log = options.logger ?? silentLogger();
  const shareHops = options.shareHops ?? true;
  const shared = new SharedHops();
  const route = async (host: HostConfig, signal: AbortSignal): Promise<Duplex> => {
    if (host.proxyCommand !== undefined) return proxyCommandSocket(host, signal, options.proxyCommand);
    const hopConfigs =
      host.jumpHosts ?? (await Promise.all(host.proxyJump.map((spec) => resolve(spec, host))));
    if (hopConfigs.length === 0) return tcpSocket(host, signal);
    const hops = shareHops ? shared : new SharedHops();
    const leases: HopLease[] = [];
    const releaseAll = (): void => {
      for (const l of leases.reverse()) l.release();
    };
    try {
      let previous: Connection | undefined;
      let key = '';
      for (const [i, resolved] of hopConfigs.entries()) {
        const name = host.proxyJump[i] ?? resolved.originalHost;
        // Only the first hop has an address of its own; CheckHostIP means nothing behind a jump.
        const hopConfig = i === 0 ? resolved : Object.freeze({ ...resolved, checkHostIp: false });
        const via = previous;
        key += `${JSON.stringify(hopConfig.poolKey)}>`;
        const open = async (): Promise<{ conn: Connection; socket: RefSocket | undefined }> => {
          let firstSocket: RefSocket | undefined;
          const conn = new Connection(hopConfig, {
            hostKeyVerifier: options.hostKeyVerifier,
            authProvider: options.authProvider,
            logger: log.child({ hop: name }),
            ...(options.onBanner && { onBanner: (m: string) => options.onBanner?.(m, host) }),
            socketFactory: via
              ? async () => via.forwardOut(hopConfig.hostname, hopConfig.port)
              : async (h, s) => {
                  firstSocket = await route(h, s);
                  return firstSocket;
                },
          });
          try {
            // A shared hop outlives the caller that opened it: only its own timeouts bound it.
            await conn.connect(shareHops ? undefined : signal);
          } catch (err) {
            conn.close();
            throw err;
          }
          log.debug({ hop: name, host: `${hopConfig.hostname}:${hopConfig.port}` }, 'jump hop connected');
          return { conn, socket: firstSocket };
        };
        const lease = await hops.acquire(key, open, signal);
        leases.push(lease);
        previous = lease.conn;
      }
      const last = previous as Connection;
      const first = leases[0] as HopLease;
      const channel = await last.forwardOut(host.hostname, host.port);
      channel.once('close', releaseAll);
      // Connection (un)refs its socket by activity; the first hop's transport is ref'ed while
      // any connection through it is busy.
      return Object.assign(channel, { ref: () => first.ref(), unref: () => first.unref() });
    } catch (err) {
      releaseAll();
      throw err;
    }
  };
  return route;
}
