import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { ConfigError } from '../errors.js';
import { type OfferedConnection, targetFailureLine } from './local-target.js';
import { SocksHandshake } from './socks-handshake.js';

/** One PermitRemoteOpen entry: `host:port`, `*` for any host or any port (ssh's open_match). */
export interface RemoteOpenPermission {
  /** Host (or address) a dynamic forward may open. */
  readonly host: string;
  /** Its port, or `*` for any. */
  readonly port: number | '*';
}

/** Where remote dynamic forwarding may connect: anywhere, nowhere, or the listed host:port pairs. */
export type RemoteOpenPolicy = 'any' | 'none' | readonly RemoteOpenPermission[];

/**
 * PermitRemoteOpen as ssh.c ssh_init_forward_permissions reads it: `any` (the default) or
 * `none` alone, else `host:port` pairs (`[v6]:port`; port `*` is any, as permitopen_port).
 */
export function remoteOpenPolicy(values: readonly string[] | undefined): RemoteOpenPolicy {
  const words = (values ?? []).flatMap((v) => v.split(/\s+/)).filter((w) => w !== '');
  if (words.length === 0 || (words.length === 1 && words[0] === 'any')) return 'any';
  if (words.length === 1 && words[0] === 'none') return 'none';
  return words.map((word) => {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(word) ?? /^([^:]*):(.*)$/.exec(word);
    if (!m || m[1] === '') throw new ConfigError('permitremoteopen: missing host in permitremoteopen');
    const port =
      m[2] === '*'
        ? '*'
        : /^\d+$/.test(m[2]!) && Number(m[2]) >= 1 && Number(m[2]) <= 65535
          ? Number(m[2])
          : -1;
    if (port === -1) throw new ConfigError('permitremoteopen: bad port number in permitremoteopen');
    return { host: m[1]!, port };
  });
}

/** channels.c open_match(): the host compared exactly (case and all), `*` matching any. */
export function remoteOpenAllowed(policy: RemoteOpenPolicy, host: string, port: number): boolean {
  if (policy === 'any') return true;
  if (policy === 'none') return false;
  return policy.some((p) => (p.port === '*' || p.port === port) && (p.host === '*' || p.host === host));
}

/**
 * One connection on a remote dynamic forward (`-R [bind:]port` with no target): as ssh's
 * rdynamic channels, it is accepted at once, the SOCKS4/4A/5 request is read from the channel
 * (the reply goes back before connecting, as ssh's decoder answers "granted"), and the target
 * is connected from this machine if PermitRemoteOpen allows it. A refused or unknown request,
 * a target not permitted, or one that cannot be reached closes this channel only.
 */
export function serveRemoteSocks(
  offered: OfferedConnection,
  policy: RemoteOpenPolicy,
  onFailure: (line: string) => void,
): void {
  Promise.resolve()
    .then(() => offered.accept())
    .then(
      (channel) => {
        const handshake = new SocksHandshake();
        const onEnd = (): void => {
          channel.destroy();
        };
        const onData = (chunk: Buffer): void => {
          const step = handshake.push(chunk);
          if (step.kind === 'more') {
            if (step.reply) channel.write(step.reply);
            return;
          }
          channel.off('data', onData);
          channel.off('end', onEnd);
          channel.pause();
          // ssh logs these below INFO (debug), so nothing is printed: the channel just closes.
          if (step.kind === 'refuse' || !remoteOpenAllowed(policy, step.request.host, step.request.port)) {
            channel.destroy();
            return;
          }
          channel.write(step.reply);
          const { host, port } = step.request;
          const socket = net.connect({ host, port, allowHalfOpen: true });
          socket.once('error', (err: NodeJS.ErrnoException) => {
            onFailure(targetFailureLine({ host, port }, err));
            channel.destroy();
          });
          socket.once('connect', () => {
            socket.removeAllListeners('error');
            if (step.rest.length > 0) socket.write(step.rest);
            const drop = (): void => {
              socket.destroy();
              channel.destroy();
            };
            pipeline(socket, channel).catch(drop);
            pipeline(channel, socket).catch(drop);
          });
        };
        channel.on('error', () => channel.destroy());
        channel.on('data', onData);
        channel.once('end', onEnd);
      },
      () => {
        // The offer went away before we took it (the client or server left): nothing to undo.
      },
    );
}
