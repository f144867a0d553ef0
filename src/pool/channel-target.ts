import { ConfigError } from '../errors.js';

/**
 * Where a forwarding channel goes on the server side: a TCP `host:port` (`direct-tcpip`) or a
 * Unix socket path (`direct-streamlocal@openssh.com`), as ssh's -L, -D and -W ask for.
 */
export type ChannelTarget =
  | {
      /** Host the server connects to. */
      readonly host: string;
      /** Its port. */
      readonly port: number;
    }
  | {
      /** A Unix socket path on the server. */
      readonly path: string;
    };

/** The originator a `direct-tcpip` open names (ssh sends the accepted peer's address). */
export interface ChannelOrigin {
  /** The originator's address. */
  readonly address: string;
  /** The originator's port. */
  readonly port: number;
}

/** Check a target once, at the boundary, repeating the bad value. */
export function channelTarget(target: unknown): ChannelTarget {
  const t = target as Record<string, unknown> | null;
  if (typeof t === 'object' && t !== null && typeof t.path === 'string' && t.path !== '') {
    return Object.freeze({ path: t.path });
  }
  if (
    typeof t === 'object' &&
    t !== null &&
    typeof t.host === 'string' &&
    t.host !== '' &&
    Number.isInteger(t.port) &&
    (t.port as number) >= 0 &&
    (t.port as number) <= 65535
  ) {
    return Object.freeze({ host: t.host, port: t.port as number });
  }
  throw new ConfigError(
    `Expected a channel target { host, port } or { path }, got \`${JSON.stringify(target)}\``,
  );
}

/** `host:port` or the path, as ssh names a forward's target in its messages. */
export function formatTarget(target: ChannelTarget): string {
  return 'path' in target ? target.path : `${target.host}:${target.port}`;
}
