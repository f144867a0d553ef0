import type { HostConfig } from '../config/host-config.js';
import { resolveHostConfig } from '../config/resolve.js';
import type { ResolveOptions } from '../config/resolve-options.js';
import { ConfigError } from '../errors.js';
import type { DestinationResolver } from './options.js';

/** `[user@]host[:port]`, with IPv6 as `[::1]:22`; `ssh://` URLs and bare IPv6 pass through whole. */
export function splitDestination(dest: string): { target: string; port: number | undefined } {
  if (typeof dest !== 'string' || dest === '') {
    throw new ConfigError(`Expected a destination \`[user@]host[:port]\`, got \`${String(dest)}\``);
  }
  if (dest.startsWith('ssh://')) return { target: dest, port: undefined };
  const at = dest.lastIndexOf('@');
  const user = at >= 0 ? dest.slice(0, at + 1) : '';
  const rest = dest.slice(at + 1);
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(rest);
  const plain = /^([^:]+):(\d+)$/.exec(rest);
  const m = bracketed ?? plain;
  if (!m) return { target: dest, port: undefined };
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ConfigError(`Bad port \`${m[2]}\` in destination \`${dest}\``);
  return { target: `${user}${m[1]}`, port };
}

/**
 * The pool's default resolver: ssh_config semantics (`ssh -G` parity) for the host part, a
 * `:port` suffix as `-p`; `base` carries command-line `-F`/`-o`/`-i`. Each destination string is resolved once per pool: config files
 * are read on the first call, not on every exec.
 */
export function defaultResolver(base: ResolveOptions = {}): DestinationResolver {
  const cache = new Map<string, Promise<HostConfig>>();
  return (dest: string) => {
    let resolved = cache.get(dest);
    if (!resolved) {
      const { target, port } = splitDestination(dest);
      resolved = resolveHostConfig(target, port === undefined ? base : { ...base, port });
      cache.set(dest, resolved);
      resolved.catch(() => cache.delete(dest));
    }
    return resolved;
  };
}
