/**
 * The frozen result of resolving a destination, as `ssh -G` would. Produced by the config
 * resolver (src/config/resolve.ts) or by `plainHostConfig` for library callers that pass
 * connection details directly. Everything below config/ reads only this.
 */
import type { AuthSettings } from './auth-options.js';
import type { Forward } from './forward-spec.js';

/** OpenSSH's StrictHostKeyChecking: `yes` refuses unknown host keys, `accept-new` records them, `no` records them and warns, `ask` asks. */
export type StrictHostKeyChecking = 'yes' | 'no' | 'accept-new' | 'ask';

/** How to reach one destination, fully resolved (see the module comment): what the connection layer reads. */
export interface HostConfig {
  /** The name the user typed (alias or host), before HostName. OpenSSH's `%n`. */
  readonly originalHost: string;
  /** The host to connect to after HostName/token expansion (`%h`). */
  readonly hostname: string;
  /** TCP port (Port, `-p`). @default 22 */
  readonly port: number;
  /** Remote user (User, `-l`, `user@`); the local user by default. */
  readonly user: string;
  /** IdentityFile values, expanded, in order; may name files that do not exist. */
  readonly identityFiles: readonly string[];
  /** IdentitiesOnly: offer only the IdentityFile keys, not the agent's others. */
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
  /** ServerAliveCountMax: unanswered keepalives before the connection is declared dead. */
  readonly serverAliveCountMax: number;
  /** What to do with an unknown host key. @default 'ask' */
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  /** UserKnownHostsFile, expanded; the first is where new keys are recorded. */
  readonly userKnownHostsFiles: readonly string[];
  /** GlobalKnownHostsFile: read, never written. */
  readonly globalKnownHostsFiles: readonly string[];
  /** HostKeyAlias (lowercased): the name looked up in known_hosts instead of the host's. */
  readonly hostKeyAlias: string | undefined;
  /** CheckHostIP: also check (and record) the key under the host's address. */
  readonly checkHostIp: boolean;
  /** HashKnownHosts: record new known_hosts names hashed. */
  readonly hashKnownHosts: boolean;
  /** UpdateHostKeys yes/true: learn the keys the server announces (`ask` is refused). @default false */
  readonly updateHostKeys?: boolean;
  /** BatchMode: never prompt (passphrases, passwords, host keys). */
  readonly batchMode: boolean;
  /** Final algorithm lists after +/-/^ modifiers, in OpenSSH names. Empty = ssh2 defaults. */
  readonly ciphers: readonly string[];
  /** KexAlgorithms after its modifiers; empty for ssh2's defaults. */
  readonly kexAlgorithms: readonly string[];
  /** MACs after its modifiers; empty for ssh2's defaults. */
  readonly macs: readonly string[];
  /** HostKeyAlgorithms after its modifiers; empty for ssh2's defaults. */
  readonly hostKeyAlgorithms: readonly string[];
  /** Compression (zlib@openssh.com). */
  readonly compression: boolean;
  /** SendEnv patterns: local variables sent as `env` requests. */
  readonly sendEnv: readonly string[];
  /** SetEnv: variables sent as `env` requests, first definition of a name wins. */
  readonly setEnv: Readonly<Record<string, string>>;
  /** ControlMaster as configured (sshmux's daemon plays the master's part). */
  readonly controlMaster: string;
  /** ControlPath, expanded; undefined for none. */
  readonly controlPath: string | undefined;
  /** Seconds a pooled connection stays open idle, from ControlPersist; undefined = pool default. */
  readonly controlPersistSeconds: number | undefined;
  /**
   * KnownHostsCommand (`none` = undefined), with this host's client tokens (`%C %L %i %k %l %n
   * %p %d %h %r %u`) for its arguments; run when the host key is checked.
   */
  readonly knownHostsCommand?:
    | {
        /** The command line, tokens unexpanded. */
        readonly command: string;
        /** The values of its `%` tokens for this host. */
        readonly tokens: Readonly<Record<string, string>>;
      }
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
  readonly stdioForward?:
    | {
        /** Host to connect to, on the server's side. */
        readonly host: string;
        /** Its port. */
        readonly port: number;
      }
    | {
        /** A Unix socket path on the server. */
        readonly path: string;
      };
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
  /** Host name or address to connect to. */
  host: string;
  /** TCP port. @default 22 */
  port?: number;
  /** Remote user. @default the local user */
  user?: string;
  /** Private key files to offer (then only these: IdentitiesOnly). @default OpenSSH's ~/.ssh/id_* list */
  identityFiles?: string[];
  /** Unknown host key policy. @default 'ask' */
  strictHostKeyChecking?: StrictHostKeyChecking;
  /** known_hosts files; the first records new keys. @default ~/.ssh/known_hosts and ~/.ssh/known_hosts2 */
  userKnownHostsFiles?: string[];
  /** Seconds between keepalives; 0 for none. @default 15 */
  serverAliveInterval?: number;
  /** Unanswered keepalives before the connection is dead. @default 3 */
  serverAliveCountMax?: number;
  /** Connect deadline in milliseconds. @default the connection's (20000) */
  connectTimeoutMs?: number;
}
