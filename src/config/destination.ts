import { ConfigError } from '../errors.js';

/** A destination as `ssh` accepts it on its command line. */
export interface Destination {
  /** Host or alias exactly as OpenSSH keeps it (brackets of `[::1]` are part of it, as in `ssh -G`). */
  readonly host: string;
  /** The `user@` part, when given. */
  readonly user: string | undefined;
  /** The port of an `ssh://` URL, when given. */
  readonly port: number | undefined;
}

// Characters OpenSSH's ssh_valid_hostname() refuses (a comma too, as in Debian's 9.2p1-2+deb12u10
// and later OpenSSH); checked again on the final hostname.
const BAD_HOST_CHARS = /['`"$\\;&<>|(){},\s\p{Cc}]/u;

/** OpenSSH's `valid_hostname()`: no leading `-`, no shell metacharacters, whitespace or controls. */
export function isValidHostname(host: string): boolean {
  return !host.startsWith('-') && !BAD_HOST_CHARS.test(host);
}

/** OpenSSH's `a2port()`: a decimal integer from 1 to 65535, or undefined. */
export function parsePort(value: string): number | undefined {
  if (!/^[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 65535 ? n : undefined;
}

// OpenSSH's valid_domain(): what parse_uri accepts as a URI host (no IPv6 literals).
function validDomain(name: string): boolean {
  if (name === '' || name.startsWith('.') || name.startsWith('-')) return false;
  return /^[A-Za-z0-9._-]+$/.test(name) && !name.includes('..');
}

function parseSshUri(spec: string): Destination {
  const bad = (why: string) => new ConfigError(`Bad destination \`${spec}\`: ${why}`);
  let rest = spec.slice('ssh://'.length);
  const slash = rest.indexOf('/');
  if (slash !== -1) {
    if (rest.slice(slash) !== '/') throw bad('ssh:// URIs take no path');
    rest = rest.slice(0, slash);
  }
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    // ssh-info may carry `;key=value` connection parameters, which OpenSSH ignores.
    const info = rest.slice(0, at).split(';')[0] ?? '';
    if (info === '' || info.includes('@')) throw bad('empty or ambiguous user');
    try {
      user = decodeURIComponent(info);
    } catch (err) {
      throw new ConfigError(`Bad destination \`${spec}\`: bad %-encoding in user`, { cause: err });
    }
    rest = rest.slice(at + 1);
  }
  const colon = rest.indexOf(':');
  const host = colon === -1 ? rest : rest.slice(0, colon);
  const portText = colon === -1 ? '' : rest.slice(colon + 1);
  if (!validDomain(host)) throw bad(`\`${host}\` is not a host name (OpenSSH accepts no IP literal here)`);
  let port: number | undefined;
  if (portText !== '') {
    port = parsePort(portText);
    if (port === undefined) throw bad(`port \`${portText}\` is not from 1 to 65535`);
  }
  return { host, user, port };
}

/**
 * Parse a destination as `ssh` does: `host`, `user@host` (last `@` splits, so `a@b@host` has user
 * `a@b`) or `ssh://[user@]host[:port]`. `host:port` is not split (OpenSSH takes it as a host name).
 */
export function parseDestination(spec: string): Destination {
  if (typeof spec !== 'string' || spec === '') {
    throw new ConfigError(`Expected a destination like [user@]host, got \`${String(spec)}\``);
  }
  if (spec.startsWith('-')) throw new ConfigError(`Bad destination \`${spec}\`: starts with \`-\``);
  if (spec.startsWith('ssh://')) return parseSshUri(spec);
  const at = spec.lastIndexOf('@');
  if (at === 0) throw new ConfigError(`Bad destination \`${spec}\`: empty user`);
  const user = at === -1 ? undefined : spec.slice(0, at);
  const host = at === -1 ? spec : spec.slice(at + 1);
  if (host === '') throw new ConfigError(`Bad destination \`${spec}\`: empty host`);
  if (!isValidHostname(host)) {
    throw new ConfigError(`Bad destination \`${spec}\`: host name contains invalid characters`);
  }
  return { host, user, port: undefined };
}
