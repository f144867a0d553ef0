import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostConfig } from '../config/host-config.js';
import { ConfigError, NetworkError, TimeoutError } from '../errors.js';

/** What `tcpSocket` reaches the system through; tests inject fakes. */
export interface TcpDeps {
  lookup: (host: string, family: 0 | 4 | 6) => Promise<{ address: string; family: number }[]>;
  interfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  connect: (options: net.NetConnectOpts) => net.Socket;
  /** The pause between attempts (sshconnect.c sleeps 1 s). */
  pause: (ms: number, signal: AbortSignal) => Promise<void>;
}

const systemDeps: TcpDeps = {
  lookup: async (host, family) => dns.lookup(host, { all: true, family, verbatim: true }),
  interfaces: () => os.networkInterfaces(),
  connect: (options) => net.connect(options),
  pause: (ms, signal) => sleep(ms, undefined, { signal }),
};

function familyOf(host: HostConfig): 0 | 4 | 6 {
  return host.addressFamily === 'inet' ? 4 : host.addressFamily === 'inet6' ? 6 : 0;
}

/** getaddrinfo with the AddressFamily hint; an address literal of the other family fails, as in ssh. */
async function addressesOf(host: HostConfig, deps: TcpDeps): Promise<{ address: string; family: number }[]> {
  const family = familyOf(host);
  const literal = net.isIP(host.hostname);
  const unsupported = (): NetworkError =>
    new NetworkError(
      `Could not resolve hostname ${host.hostname}: Address family for hostname not supported`,
      { destination: host.hostname, code: 'SSHMUX_ERR_RESOLVE', retryable: false },
    );
  if (literal !== 0) {
    if (family !== 0 && literal !== family) throw unsupported();
    return [{ address: host.hostname, family: literal }];
  }
  try {
    const all = await deps.lookup(host.hostname, family);
    if (all.length === 0) throw unsupported();
    return all;
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    const code = (err as { code?: string }).code;
    throw new NetworkError(
      `Could not resolve hostname ${host.hostname}: ${code === 'ENOTFOUND' ? 'Name or service not known' : (err as Error).message}`,
      { destination: host.hostname, code: 'SSHMUX_ERR_RESOLVE', cause: err },
    );
  }
}

/**
 * The local address to bind for one remote address: BindAddress (resolved for that family), else
 * an address of BindInterface (sshconnect.c check_ifaddrs: non-loopback, non-link-local first).
 */
async function localAddressFor(host: HostConfig, family: number, deps: TcpDeps): Promise<string | undefined> {
  if (host.bindAddress !== undefined) {
    if (net.isIP(host.bindAddress) !== 0) return host.bindAddress;
    const [first] = await deps.lookup(host.bindAddress, family === 6 ? 6 : 4).catch(() => []);
    if (!first) throw new NetworkError(`getaddrinfo: ${host.bindAddress}: Name or service not known`);
    return first.address;
  }
  if (host.bindInterface === undefined) return undefined;
  const want = family === 6 ? 'IPv6' : 'IPv4';
  const infos = (deps.interfaces()[host.bindInterface] ?? []).filter(
    (i) => i.family === want || (i.family as unknown) === (family === 6 ? 6 : 4),
  );
  const preferred = infos.find((i) => !i.internal && !i.address.toLowerCase().startsWith('fe80:'));
  const chosen = preferred ?? infos[0];
  if (!chosen) {
    throw new NetworkError(`getifaddrs: ${host.bindInterface}: no suitable addresses`, {
      destination: host.hostname,
    });
  }
  return chosen.address;
}

function connectOnce(
  address: string,
  family: number,
  host: HostConfig,
  localAddress: string | undefined,
  signal: AbortSignal,
  deps: TcpDeps,
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const sock = deps.connect({
      host: address,
      port: host.port,
      family,
      noDelay: true,
      ...(localAddress !== undefined && { localAddress }),
    });
    // ConnectTimeout bounds each connect() in ssh; the handshake gets its own deadline later.
    const timer =
      host.connectTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            sock.destroy();
            reject(Object.assign(new Error('Connection timed out'), { code: 'ETIMEDOUT' }));
          }, host.connectTimeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      sock.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      done();
      sock.setNoDelay(true);
      // TCPKeepAlive (default yes): SO_KEEPALIVE with the system's timings, as ssh sets it.
      if (host.tcpKeepAlive !== false) sock.setKeepAlive(true);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => {
      done();
      reject(err);
    });
  });
}

/**
 * A TCP socket with Nagle off (without TCP_NODELAY every small exec waits ~40 ms on delayed
 * ACKs), connected as sshconnect.c ssh_connect_direct does: the host's addresses for its
 * AddressFamily, tried in order, the whole list up to ConnectionAttempts times 1 s apart, each
 * connect bounded by ConnectTimeout and bound to BindAddress / BindInterface when set.
 */
export async function connectTcp(
  host: HostConfig,
  signal: AbortSignal,
  deps: TcpDeps = systemDeps,
): Promise<Duplex> {
  const attempts = host.connectionAttempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new ConfigError('Invalid number of ConnectionAttempts');
  const addresses = await addressesOf(host, deps);
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await deps.pause(1_000, signal);
    for (const { address, family } of addresses) {
      signal.throwIfAborted();
      try {
        const local = await localAddressFor(host, family, deps);
        return await connectOnce(address, family, host, local, signal, deps);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        lastError = err;
      }
    }
  }
  const e = lastError as NodeJS.ErrnoException;
  // sshconnect.c ssh_connect_direct's words for the last failure; the CLI prints them as ssh does.
  const said = `connect to host ${host.hostname} port ${host.port}: ${strerror(e)}`;
  if (e.code === 'ETIMEDOUT') {
    throw new TimeoutError(said, { destination: host.hostname, cause: e, code: CONNECT_FAILED });
  }
  if (e instanceof Error && typeof e.code === 'string' && e.code in STRERROR) {
    throw new NetworkError(said, { destination: host.hostname, cause: e, code: CONNECT_FAILED });
  }
  // Anything else (a BindAddress that does not resolve…): Connection translates it where it enters.
  throw e;
}

/** The code of a connect that failed as ssh reports it (`connect to host H port P: …`). */
export const CONNECT_FAILED = 'SSHMUX_ERR_CONNECT';

/** strerror() of the connect errors ssh reports, as glibc words them. */
const STRERROR: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  ECONNRESET: 'Connection reset by peer',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EAFNOSUPPORT: 'Address family not supported by protocol',
};

function strerror(e: NodeJS.ErrnoException): string {
  return STRERROR[e.code ?? ''] ?? e.message;
}
