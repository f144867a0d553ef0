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

/** Resolves one ProxyJump hop (`[user@]host[:port]` or an alias) to its own configuration. */
export type HopResolver = (hop: string, target: HostConfig) => Promise<HostConfig>;

export interface ProxyJumpOptions {
  hostKeyVerifier: HostKeyVerifier;
  authProvider: AuthProvider;
  /** @default parseHopSpec + plainHostConfig, inheriting the target's key and known_hosts settings */
  resolve?: HopResolver;
  /** @default silent */
  logger?: Logger;
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
 * A `SocketFactory` that reaches `host` through each `host.proxyJump` hop in turn: the first
 * hop over TCP, every next one (and the target) over a `direct-tcpip` channel of the previous.
 * Each hop is verified and authenticated with its own config. The hops close when the returned
 * stream closes, i.e. when the final connection closes. Without hops it is plain TCP.
 */
export function proxyJumpSocketFactory(options: ProxyJumpOptions): SocketFactory {
  const resolve = options.resolve ?? defaultHopResolver;
  const log = options.logger ?? silentLogger();
  return async (host: HostConfig, signal: AbortSignal): Promise<Duplex> => {
    if (host.proxyJump.length === 0) return tcpSocket(host, signal);
    const hops: Connection[] = [];
    const closeAll = (): void => {
      for (const c of hops.reverse()) c.close();
    };
    let firstSocket: Duplex | undefined;
    try {
      let previous: Connection | undefined;
      for (const [i, spec] of host.proxyJump.entries()) {
        const resolved = await resolve(spec, host);
        // Only the first hop has an address of its own; CheckHostIP means nothing behind a jump.
        const hopConfig = i === 0 ? resolved : Object.freeze({ ...resolved, checkHostIp: false });
        const via = previous;
        const conn = new Connection(hopConfig, {
          hostKeyVerifier: options.hostKeyVerifier,
          authProvider: options.authProvider,
          logger: log.child({ hop: spec }),
          socketFactory: via
            ? async () => via.forwardOut(hopConfig.hostname, hopConfig.port)
            : async (h, s) => {
                firstSocket = await tcpSocket(h, s);
                return firstSocket;
              },
        });
        hops.push(conn);
        await conn.connect(signal);
        log.debug({ hop: spec, host: `${hopConfig.hostname}:${hopConfig.port}` }, 'jump hop connected');
        previous = conn;
      }
      const last = previous as Connection;
      const channel = await last.forwardOut(host.hostname, host.port);
      channel.once('close', closeAll);
      // Connection (un)refs its socket by activity; forward that to the real TCP socket of hop 1.
      const sock = firstSocket as (Duplex & { ref?: () => void; unref?: () => void }) | undefined;
      return Object.assign(channel, {
        ref: () => sock?.ref?.(),
        unref: () => sock?.unref?.(),
      });
    } catch (err) {
      closeAll();
      throw err;
    }
  };
}
