import { ConfigError, RemoteError, type SshmuxError } from '../errors.js';
import type { BtrfsHost } from './host.js';

/** What a host offers for btrfs replication, learned once per transfer. */
export interface HostCapabilities {
  user: string;
  /** How btrfs runs: directly as root, or through `sudo -n` (only btrfs is ever elevated). */
  privilege: 'root' | 'sudo';
  /** Absolute path of btrfs on that host. */
  btrfsPath: string;
  /** The argv prefix for every btrfs command: `[btrfsPath]` or `['sudo', '-n', btrfsPath]`. */
  btrfs: readonly string[];
  /** Absolute path of zstd, or null when absent. */
  zstdPath: string | null;
}

const FIND = (name: string) =>
  `p=$(command -v ${name} 2>/dev/null); case "$p" in /*) ;; *) p=; for c in /usr/sbin/${name} /sbin/${name} /usr/bin/${name} /bin/${name}; do if [ -x "$c" ]; then p=$c; break; fi; done;; esac; echo "${name}=$p"`;

/** As a user other than root, whether `sudo -n btrfs --version` works: its status and last stderr line. */
const SUDO_CHECK =
  'if [ "$(id -u)" != 0 ] && [ -n "$p" ]; then e=$(sudo -n "$p" --version 2>&1 >/dev/null); echo "sudo=$?"; ' +
  `printf 'sudoerr=%s\\n' "$(printf '%s\\n' "$e" | tail -n 1)"; fi`;

/**
 * One round trip: user, uid, where btrfs and zstd live (PATH, then /usr/sbin, /sbin, /usr/bin,
 * /bin) and, when not root, whether sudo -n may run btrfs.
 */
export const PROBE_SCRIPT = `echo "uid=$(id -u)"; echo "user=$(id -un)"; ${FIND('btrfs')}; ${SUDO_CHECK}; ${FIND('zstd')}`;

/** The `sudo -n btrfs --version` check: exit status and the last line of its stderr. */
interface SudoCheck {
  code: number | null;
  lastError: string;
}

export function parseProbe(stdout: string): {
  uid: number;
  user: string;
  btrfs: string | null;
  zstd: string | null;
  /** The sudo check, when the script ran it (not root, btrfs found). */
  sudo?: SudoCheck;
} {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const uid = Number.parseInt(kv.get('uid') ?? '', 10);
  return {
    uid: Number.isSafeInteger(uid) ? uid : -1,
    user: kv.get('user') || '?',
    btrfs: kv.get('btrfs') || null,
    zstd: kv.get('zstd') || null,
    ...(kv.has('sudo') && {
      sudo: { code: Number.parseInt(kv.get('sudo')!, 10), lastError: kv.get('sudoerr') ?? '' },
    }),
  };
}

function fail(host: BtrfsHost, message: string): SshmuxError {
  return host.destination === undefined
    ? new ConfigError(message)
    : new RemoteError(message, { destination: host.destination });
}

/** Find btrfs (and zstd) on a host and how to run btrfs as root; a clear error when it cannot be. */
export async function probeHost(host: BtrfsHost, signal?: AbortSignal): Promise<HostCapabilities> {
  const r = await host.run(['sh', '-c', PROBE_SCRIPT], signal ? { signal } : {});
  if (r.code !== 0) throw fail(host, `${host.label}: probing for btrfs failed: ${r.stderr.trim()}`);
  const p = parseProbe(r.stdout);
  if (!p.btrfs) {
    throw fail(
      host,
      `${host.label}: btrfs not found (PATH, /usr/sbin, /sbin, /usr/bin, /bin); install btrfs-progs`,
    );
  }
  if (p.uid === 0)
    return { user: p.user, privilege: 'root', btrfsPath: p.btrfs, btrfs: [p.btrfs], zstdPath: p.zstd };
  // The probe script answers this itself; a separate round trip only if it did not.
  let sudo: SudoCheck | undefined = p.sudo;
  if (sudo === undefined) {
    const r = await host.run(['sudo', '-n', p.btrfs, '--version'], signal ? { signal } : {});
    sudo = { code: r.code, lastError: r.stderr.trim().split('\n').at(-1) ?? '' };
  }
  if (sudo.code === 0) {
    return {
      user: p.user,
      privilege: 'sudo',
      btrfsPath: p.btrfs,
      btrfs: ['sudo', '-n', p.btrfs],
      zstdPath: p.zstd,
    };
  }
  throw fail(
    host,
    `${host.label}: user ${p.user} cannot run btrfs as root (\`sudo -n ${p.btrfs}\` failed: ${
      sudo.lastError || `exit ${sudo.code}`
    }). Connect as root, or allow btrfs alone with this sudoers line:\n  ${p.user} ALL=(root) NOPASSWD: ${p.btrfs}`,
  );
}
