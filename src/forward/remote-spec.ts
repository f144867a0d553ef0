import { type Forward, parseForward } from '../config/forward-spec.js';
import type { HostConfig } from '../config/host-config.js';
import { ConfigError } from '../errors.js';
import type { RemoteBind } from '../pool/types.js';

/** Where an accepted connection goes on our side: a TCP host and port, or a Unix socket. */
export type LocalTarget =
  | {
      /** Local host connected to. */
      readonly host: string;
      /** Its port. */
      readonly port: number;
    }
  | {
      /** A local Unix socket. */
      readonly path: string;
    };

/** Remote dynamic forwarding (`-R [bind:]port`, no target): each connection says where, in SOCKS. */
export type SocksTarget = {
  /** The target is named by each SOCKS request (a dynamic remote forward). */
  readonly socks: true;
};

/** A remote forward (-R / RemoteForward) split into what the server binds and what we connect to. */
export interface RemoteForwardSpec {
  /** The -R / RemoteForward specification it came from. */
  readonly forward: Forward;
  /** Where the server listens. */
  readonly bind: RemoteBind;
  /** Where accepted connections go on our side. */
  readonly target: LocalTarget | SocksTarget;
}

/**
 * The address ssh sends in tcpip-forward (channels.c channel_rfwd_bind_host): no bind address
 * is `localhost` (the server's loopback), `*` or an empty one is every address (GatewayPorts
 * on the server decides), anything else as given.
 */
export function remoteBindAddress(listenHost: string | undefined): string {
  if (listenHost === undefined) return 'localhost';
  if (listenHost === '' || listenHost === '*') return '';
  return listenHost;
}

/** Split a parsed -R / RemoteForward; the remote dynamic form (no target) becomes a SOCKS target. */
export function remoteForwardSpec(forward: Forward): RemoteForwardSpec {
  const bind: RemoteBind =
    forward.listenPath !== undefined
      ? { path: forward.listenPath }
      : { address: remoteBindAddress(forward.listenHost), port: forward.listenPort };
  const dynamic =
    forward.connectHost === 'socks' && forward.connectPath === undefined && forward.connectPort === 0;
  const target: LocalTarget | SocksTarget = dynamic
    ? { socks: true }
    : forward.connectPath !== undefined
      ? { path: forward.connectPath }
      : { host: forward.connectHost ?? 'localhost', port: forward.connectPort };
  return Object.freeze({ forward, bind, target });
}

/** ssh.c ssh_confirm_remote_forward: the line for a port the server chose (`-R 0:host:port`). */
export function allocatedPortLine(spec: RemoteForwardSpec, port: number): string {
  const f = spec.forward;
  return `Allocated port ${port} for remote forward to ${f.connectPath ?? f.connectHost}:${f.connectPort}`;
}

/** ssh.c ssh_confirm_remote_forward: what a refused forward says, as a warning or (ExitOnForwardFailure) an error. */
export function forwardFailedLine(spec: RemoteForwardSpec, fatal: boolean): string {
  const f = spec.forward;
  const what = f.listenPath !== undefined ? `listen path ${f.listenPath}` : `listen port ${f.listenPort}`;
  return `${fatal ? 'Error' : 'Warning'}: remote port forwarding failed for ${what}`;
}

/** Whether ssh prints the allocated port: a TCP listener on port 0. */
export function portAllocated(spec: RemoteForwardSpec): boolean {
  return spec.forward.listenPath === undefined && spec.forward.listenPort === 0;
}

/**
 * The remote forwards a resolved host asks for (-R and RemoteForward, duplicates dropped and
 * ClearAllForwardings applied by the resolver), read back from the lines `ssh -G` prints.
 */
export function remoteForwardsOf(host: Pick<HostConfig, 'effective'>): RemoteForwardSpec[] {
  return (host.effective?.get('remoteforward') ?? []).map((line) => {
    const space = line.indexOf(' ');
    const listen = line.slice(0, space);
    const connect = line.slice(space + 1);
    // `[socks]:0` is how -G prints the remote dynamic form (no target).
    const forward =
      connect === '[socks]:0'
        ? parseForward(listen, true, true)
        : parseForward(`${listen}:${connect}`, false, true);
    if (forward === undefined) throw new ConfigError(`Bad forwarding specification '${line}'`);
    return remoteForwardSpec(forward);
  });
}
