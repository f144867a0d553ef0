import os from 'node:os';

/** Options of {@link startEmbeddedSshd}. */
export interface EmbeddedSshdOptions {
  /** Session channels one connection may have open at once (sshd's MaxSessions). @default 4 */
  maxSessions?: number;
  /** Environment names a client may set (sshd's AcceptEnv; `*` and `?` as in sshd). @default the container's: GIT_PROTOCOL LANG LC_* */
  acceptEnv?: readonly string[];
  /** Login names accepted with the run's key; every session runs as the local user. @default backup, root and the local user */
  users?: readonly string[];
}

export interface ResolvedEmbeddedSshdOptions {
  maxSessions: number;
  acceptEnv: readonly RegExp[];
  users: ReadonlySet<string>;
}

export function resolveOptions(o: EmbeddedSshdOptions): Readonly<ResolvedEmbeddedSshdOptions> {
  const maxSessions = o.maxSessions ?? 4;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new TypeError(`Expected \`maxSessions\` to be an integer from 1 and up, got \`${maxSessions}\``);
  }
  const glob = (p: string): RegExp =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.')}$`,
    );
  let local = '';
  try {
    local = os.userInfo().username;
  } catch {
    // No passwd entry (containers with random uids): the default names still work.
  }
  return Object.freeze({
    maxSessions,
    acceptEnv: (o.acceptEnv ?? ['GIT_PROTOCOL', 'LANG', 'LC_*']).map(glob),
    users: new Set(o.users ?? ['backup', 'root', ...(local ? [local] : [])]),
  });
}
