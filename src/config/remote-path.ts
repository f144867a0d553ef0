import { ConfigError } from '../errors.js';

/** `dest:PATH` split the way scp does. */
export interface RemotePath {
  /** `[user@]host[:port]`-less destination or alias (everything before the first unbracketed `:`). */
  dest: string;
  /** The remote path; `.` when empty (the login directory, like scp). */
  path: string;
}

/**
 * Split `dest:PATH` as scp does: `host:dir`, `user@host:dir`, `[::1]:dir`, `ssh://user@host:port/dir`.
 * A bare local path (no `:` before the first `/`) is rejected with a clear error.
 */
export function parseRemotePath(spec: string): RemotePath {
  if (typeof spec !== 'string' || spec === '') {
    throw new ConfigError(`Expected a remote path like host:/dir, got \`${String(spec)}\``);
  }
  if (spec.startsWith('ssh://')) {
    const rest = spec.slice('ssh://'.length);
    const slash = rest.indexOf('/');
    const authority = slash === -1 ? rest : rest.slice(0, slash);
    if (authority === '') throw new ConfigError(`Missing host in \`${spec}\``);
    return { dest: `ssh://${authority}`, path: slash === -1 ? '.' : rest.slice(slash) || '/' };
  }
  // Brackets belong to the host only (`[::1]:x`, `user@[::1]:x`); in the path they are data.
  let i = 0;
  const at = spec.indexOf('@');
  const firstColon = spec.indexOf(':');
  const open = spec.startsWith('[') ? 0 : at !== -1 && at < firstColon && spec[at + 1] === '[' ? at + 1 : -1;
  if (open !== -1) {
    const close = spec.indexOf(']', open);
    if (close === -1) throw new ConfigError(`Unclosed [ in remote path \`${spec}\``);
    i = close + 1;
  }
  const colon = spec.indexOf(':', i);
  const slash = spec.indexOf('/');
  if (colon <= 0 || (slash !== -1 && slash < colon)) {
    throw new ConfigError(`Expected a remote path like host:/dir (scp syntax), got \`${spec}\``);
  }
  const dest = spec.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  // `[]:x` (or `user@[]:x`): brackets around nothing name no host.
  if (dest === '' || /(^|@)\[\]$/.test(dest)) throw new ConfigError(`Missing host in \`${spec}\``);
  return { dest, path: spec.slice(colon + 1) || '.' };
}
