import type { HostConfig } from '../config/host-config.js';
import { plainHostConfig } from '../config/plain.js';
import { ConfigError } from '../errors.js';

/**
 * The pool's fallback resolver: `[user@]host[:port]` (IPv6 as `[::1]:22`) with OpenSSH
 * defaults and no ssh_config. Callers wanting ssh_config semantics inject `resolve`.
 */
export function resolvePlainDestination(dest: string): HostConfig {
  if (typeof dest !== 'string' || dest === '') {
    throw new ConfigError(`Expected a destination \`[user@]host[:port]\`, got \`${String(dest)}\``);
  }
  let rest = dest;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw new ConfigError(`Empty user in destination \`${dest}\``);
  }
  let host = rest;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else {
    const colon = rest.lastIndexOf(':');
    // A bare IPv6 address has several colons and no port.
    if (colon >= 0 && rest.indexOf(':') === colon) {
      host = rest.slice(0, colon);
      const p = rest.slice(colon + 1);
      if (!/^\d+$/.test(p)) throw new ConfigError(`Bad port \`${p}\` in destination \`${dest}\``);
      port = Number(p);
    }
  }
  if (host === '') throw new ConfigError(`Empty host in destination \`${dest}\``);
  return plainHostConfig({
    host,
    ...(port !== undefined && { port }),
    ...(user !== undefined && { user }),
  });
}
