/**
 * The frozen result of resolving a destination, as `ssh -G` would. Produced by the config
 * resolver (src/config/resolve.ts) or by `plainHostConfig` for library callers that pass
 * connection details directly. Everything below config/ reads only this.
 */
import type { AuthSettings } from './auth-options.js';
import type { Forward } from './forward-spec.js';

export type StrictHostKeyChecking = 'yes' | 'no' | 'accept-new' | 'ask';

export interface HostConfig {
  /** The name the user typed (alias or host), before HostName. OpenSSH's `%n`. */
  readonly originalHost: string;
  /** The host to connect to after HostName/token expansion (`%h`). */
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  /** IdentityFile values, expanded, in order; may name files that do not exist. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  /** Agent socket path / pipe, `none`, or undefined for SSH_AUTH_SOCK. */
  readonly identityAgent: string | undefined;
  /** ProxyJump hops (`[user@]host[:port]` each), empty for none. */
  readonly proxyJump: readonly string[];
  /**
   * Each ProxyJump hop resolved through ssh_config as ssh 9.2 resolves it (first hop first), set
   * by `resolveHostConfig`; when present the connection layer uses these instead of `proxyJump`.
   */
  readonly jumpHosts?: readonly HostConfig[];
  /** ProxyCommand as configured (tokens unexpanded); undefined for none. Excludes ProxyJump. */
  readonly proxyCommand?: string | undefined;
  /** ProxyUseFdpass yes: refused when a ProxyCommand would run. */
  readonly proxyUseFdpass?: boolean;
  /** Milliseconds; undefined = OS default (OpenSSH's `none`). */
  readonly connectTimeoutMs: number | undefined;
  /** Seconds; 0 = off. */
  readonly serverAliveInterval: number;
  readonly serverAliveCountMax: number;
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly hostKeyAlias: string | undefined;
  readonly checkHostIp: boolean;
  readonly hashKnownHosts: boolean;
  /** UpdateHostKeys yes/true: learn the keys the server announces (`ask` is refused). @default false */
  readonly updateHostKeys?: boolean;
  readonly batchMode: boolean;
  /** Final algorithm lists after +/-/^ modifiers, in OpenSSH names. Empty = ssh2 defaults. */
  readonly ciphers: readonly string[];
  readonly kexAlgorithms: readonly string[];
  readonly macs: readonly string[];
  readonly hostKeyAlgorithms: readonly string[];
  readonly compression: boolean;
  readonly sendEnv: readonly string[];
  readonly setEnv: Readonly<Record<string, string>>;
  readonly controlMaster: string;
  readonly controlPath: string | undefined;
  /** Seconds a pooled connection stays open idle, from ControlPersist; undefined = pool default. */
  readonly controlPersistSeconds: number | undefined;
  /**
   * KnownHostsCommand (`none` = undefined), with this host's client tokens (`%C %L %i %k %l %n
   * %p %d %h %r %u`) for its arguments; run when the host key is checked.
   */
  readonly knownHostsCommand?:
    | { readonly command: string; readonly tokens: Readonly<Record<string, string>> }
    | undefined;
  /** ConnectionAttempts: direct TCP connects tried, 1 s apart. @default 1 */
  readonly connectionAttempts?: number;
  /** RequiredRSASize: RSA host and user keys shorter than this many bits are refused / skipped. @default 1024 */
  readonly requiredRsaSize?: number;
  /** TCPKeepAlive: SO_KEEPALIVE on the TCP socket, with the system's timings. @default true */
  readonly tcpKeepAlive?: boolean;
  /** BindAddress (-b): local address of the direct TCP socket. */
  readonly bindAddress?: string | undefined;
  /** BindInterface (-B): bind to an address of this interface (unless BindAddress is set). */
  readonly bindInterface?: string | undefined;
  /** `any`, `inet` (-4) or `inet6` (-6). */
  readonly addressFamily: 'any' | 'inet' | 'inet6';
  /** PubkeyAuthentication, PreferredAuthentications and the other client authentication options. */
  readonly authentication: AuthSettings;
  /** -L/-D/LocalForward/DynamicForward, socket paths expanded; empty under ClearAllForwardings. */
  readonly localForwards?: readonly Forward[];
  /** -W: the stdio forward's target (`host` and `port`, or `path`). */
  readonly stdioForward?: { readonly host: string; readonly port: number } | { readonly path: string };
  /** A stable key for pooling: equal keys may share connections. */
  readonly poolKey: string;
  /**
   * Every effective option as `ssh -G` prints it (lowercase keyword → values), including keywords
   * sshmux keeps but does not interpret. Set by `resolveHostConfig`; absent from `plainHostConfig`.
   */
  readonly effective?: ReadonlyMap<string, readonly string[]>;
  /**
   * Where each configured value came from, parallel to the stored values (`file:line`, `-o`,
   * `-p`, `-l`, `-i`, `-J`, `destination`…); a keyword absent here has its default. Set by
   * `resolveHostConfig`, read by `sshmux doctor`.
   */
  readonly origins?: ReadonlyMap<string, readonly string[]>;
}

/** Options accepted by `plainHostConfig` for callers that skip ssh_config. */
export interface PlainHostOptions {
  host: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  strictHostKeyChecking?: StrictHostKeyChecking;
  userKnownHostsFiles?: string[];
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeoutMs?: number;
}
