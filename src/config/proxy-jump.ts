import { ConfigError } from '../errors.js';
import { isValidHostname, parseDestination, parsePort } from './destination.js';
import { validRemoteUser } from './remote-user.js';

/** One ProxyJump hop. */
export interface JumpHop {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

// parse_user_host_port(): [user@]host[:port], host may be a bracketed IPv6 literal.
function parseHop(text: string): JumpHop | undefined {
  if (text.startsWith('ssh://')) {
    try {
      return parseDestination(text);
    } catch {
      return undefined;
    }
  }
  const at = text.lastIndexOf('@');
  const user = at === -1 ? undefined : text.slice(0, at);
  if (user === '') return undefined;
  const hostPort = text.slice(at + 1);
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) return undefined;
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return undefined;
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostPort.indexOf(':');
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    portText = colon === -1 ? undefined : hostPort.slice(colon + 1);
    if (portText?.includes(':')) return undefined;
  }
  if (host === '') return undefined;
  let port: number | undefined;
  if (portText !== undefined) {
    port = parsePort(portText);
    if (port === undefined) return undefined;
  }
  return { user, host, port };
}

/** Parse a ProxyJump value (`none` or comma-separated hops) into hops, first hop first. */
export function parseProxyJump(value: string, where: string): JumpHop[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((text) => {
    const hop = parseHop(text);
    if (!hop) throw new ConfigError(`${where}: Invalid ProxyJump "${value}"`);
    return hop;
  });
}

/** A ProxyJump value as parse_jump() reads it: up to a `#`, trailing blanks dropped. */
export function cleanJump(value: string): string {
  const hash = value.indexOf('#');
  return (hash === -1 ? value : value.slice(0, hash)).replace(/[ \t\r\n\f]+$/, '');
}

/**
 * Why ssh's parse_jump() refuses `value`: undefined when it is valid, '' for a syntax error
 * (ssh logs nothing more), else its `parse_jump: invalid hostname "…"` line.
 */
export function proxyJumpProblem(value: string, strict: boolean): string | undefined {
  if (value.toLowerCase() === 'none') return undefined;
  const hops = cleanJump(value).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i]!);
    if (!hop) return '';
    if (!strict) continue;
    if (!isValidHostname(hop.host) || hop.host.includes(','))
      return `parse_jump: invalid hostname "${hop.host}"`;
    if (hop.user !== undefined && !validRemoteUser(hop.user))
      return `parse_jump: invalid username "${hop.user}"`;
  }
  return undefined;
}

/** A hop as `[user@]host[:port]`, IPv6 literals bracketed. */
export function formatHop(hop: JumpHop): string {
  const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user === undefined ? '' : `${hop.user}@`}${host}${hop.port === undefined ? '' : `:${hop.port}`}`;
}
