import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { sshConfigError } from './ssh-error.js';

/** What `%` tokens expand to: OpenSSH's connection info (ssh.c `cinfo`). */
export interface TokenContext {
  /** `%h`: remote host name after HostName. */
  readonly host: string;
  /** `%n`: the host as typed. */
  readonly originalHost: string;
  /** `%p` */
  readonly port: number;
  /** `%r`: remote user. */
  readonly user: string;
  /** `%u`: local user. */
  readonly localUser: string;
  /** `%d`: local home directory. */
  readonly homeDir: string;
  /** `%l`: local host name (full); `%L` is its first label. */
  readonly localHostname: string;
  /** `%i`: local numeric user id. */
  readonly uid: string;
  /** `%k`: HostKeyAlias, else the host as typed. */
  readonly hostKeyAlias: string | undefined;
}

/** `%C`: SHA-1 of `%l%h%p%r`, hex, as OpenSSH 9.2's `ssh_connection_hash`. */
export function connectionHash(ctx: TokenContext): string {
  return createHash('sha1').update(`${ctx.localHostname}${ctx.host}${ctx.port}${ctx.user}`).digest('hex');
}

/** Every client token OpenSSH expands in ControlPath, IdentityAgent, UserKnownHostsFile, Match exec. */
export function clientTokens(ctx: TokenContext): Record<string, string> {
  const dot = ctx.localHostname.indexOf('.');
  return {
    C: connectionHash(ctx),
    L: dot === -1 ? ctx.localHostname : ctx.localHostname.slice(0, dot),
    i: ctx.uid,
    k: ctx.hostKeyAlias ?? ctx.originalHost,
    l: ctx.localHostname,
    n: ctx.originalHost,
    d: ctx.homeDir,
    h: ctx.host,
    p: String(ctx.port),
    r: ctx.user,
    u: ctx.localUser,
  };
}

/**
 * `percent_expand`: `%%` is `%`, a token not in `tokens` or a trailing `%` is fatal, with
 * misc.c's two lines (`fn` names the OpenSSH function the caller stands for: percent_expand, or
 * percent_dollar_expand for the paths that also take `${VAR}`). `what` is kept for the cause.
 */
export function expandPercent(
  value: string,
  tokens: Readonly<Record<string, string>>,
  what: string,
  fn: 'percent_expand' | 'percent_dollar_expand' = 'percent_expand',
): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const key = value[++i];
    if (key === '%') out += '%';
    else if (key !== undefined && Object.hasOwn(tokens, key)) out += tokens[key];
    else {
      const why = key === undefined ? 'invalid format' : `unknown key %${key}`;
      throw sshConfigError(`vdollar_percent_expand: ${why}\n${fn}: failed`, {
        logged: true,
        cause: new Error(`${what}: ${why} in \`${value}\``),
      });
    }
  }
  return out;
}

/** `dollar_expand`: `${NAME}` from the environment; an unset variable is an error, like OpenSSH. */
export function expandDollar(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
  what: string,
): string {
  return value.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError(`${what}: bad environment variable name \`\${${name}}\` in \`${value}\``);
    }
    const v = env[name];
    if (v === undefined) throw new ConfigError(`${what}: environment variable \`${name}\` has no value`);
    return v;
  });
}

/** `tilde_expand_filename` for the current user: `~` and `~/x` only (`~other` is an error here). */
export function expandTilde(value: string, homeDir: string, what: string): string {
  if (!value.startsWith('~')) return value;
  if (value === '~') return homeDir;
  if (value.startsWith('~/')) {
    // A Windows home (C:\Users\x) keeps its own separator, as Win32-OpenSSH does.
    const sep = /^[A-Za-z]:\\|^\\\\/.test(homeDir) ? '\\' : '/';
    return `${homeDir.replace(/[\\/]+$/, '')}${sep}${value.slice(2)}`;
  }
  throw new ConfigError(`${what}: \`${value}\`: ~user paths are not supported`);
}

/** Tilde, then `%` tokens, then `${VAR}`: the order ssh.c applies to ControlPath and friends. */
export function expandPath(
  value: string,
  ctx: TokenContext,
  env: Readonly<Record<string, string | undefined>>,
  what: string,
): string {
  return expandDollar(
    expandPercent(expandTilde(value, ctx.homeDir, what), clientTokens(ctx), what, 'percent_dollar_expand'),
    env,
    what,
  );
}
