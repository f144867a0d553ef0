import type { BtrfsHost } from './host.js';
import { hostError } from './inspect.js';
import type { HostCapabilities } from './probe.js';
import type { SubvolumeInfo } from './subvolume-show.js';
import { where } from './verify.js';

/** Directory, inside the receiving directory, that holds one spool per snapshot name. */
export const SPOOL_DIR = '.sshmux-resume';

/** Days after which a spool nobody came back for is removed by the next transfer into its directory. */
export const SPOOL_MAX_AGE_DAYS = 7;

/** Path of the spool for `name` received into `dir`. */
export function spoolPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${SPOOL_DIR}/${name}`;
}

/**
 * What the stream in a spool is a prefix of: the sent subvolume, its parent and clone sources,
 * each by UUID, Received UUID and generation (a snapshot replaced under the same name, or made
 * writable and changed, no longer matches). Never by name.
 */
export function spoolIdentity(
  source: SubvolumeInfo,
  parent: SubvolumeInfo | null,
  clones: readonly SubvolumeInfo[],
): string {
  const id = (s: SubvolumeInfo) => `uuid=${s.uuid} received=${s.receivedUuid ?? '-'} gen=${s.generation}`;
  return [
    'sshmux-btrfs-spool 1',
    `source ${id(source)}`,
    `parent ${parent ? id(parent) : '-'}`,
    ...clones.map((c) => `clone ${id(c)}`),
    '',
  ].join('\n');
}

/** The spool state of one receiving directory and name, from one round trip. */
export interface SpoolState {
  /** Whether a spool can be kept there (writable by this user, flock present). */
  usable: boolean;
  /** Why not, when not usable. */
  why: string;
  /** Whether a spool for this name exists. */
  exists: boolean;
  /** Bytes it holds. */
  size: number;
  /** Its identity record ('' when none). */
  identity: string;
  /** UUID of the subvolume its transfer's btrfs receive created, null when none was recorded. */
  partialUuid: string | null;
  /** Bytes available to this user on the receiving filesystem. */
  available: number;
}

/** Waits (up to 30 s) for a spool whose transfer is still ending, e.g. a receive draining after a cut. */
const INSPECT_SCRIPT = [
  'd=$1; n=$2; r="$d/.sshmux-resume"; s="$r/$n"',
  'command -v flock >/dev/null 2>&1 && echo flock=1',
  'echo "avail=$(df -P -B1 "$d" 2>/dev/null | awk "NR==2{print \\$4}")"',
  `if [ -d "$r" ]; then for x in "$r"/*/; do [ -d "$x" ] && [ "$x" != "$s/" ] || continue; ` +
    `[ -n "$(find "$x" -maxdepth 0 -mmin +${SPOOL_MAX_AGE_DAYS * 1440} 2>/dev/null)" ] && ` +
    'flock -n "$x/lock" rm -rf "$x" 2>/dev/null; done; fi',
  'if [ -d "$s" ]; then',
  '  echo exists=1; [ -w "$s" ] && echo writable=1',
  '  [ ! -e "$s/lock" ] || flock -w 30 "$s/lock" true || echo busy=1',
  '  echo "size=$(stat -c %s "$s/stream" 2>/dev/null || echo 0)"',
  '  [ -f "$s/partial" ] && echo "partial=$(head -n 1 "$s/partial")"',
  '  echo @@identity; cat "$s/identity" 2>/dev/null',
  'elif [ -d "$r" ]; then [ -w "$r" ] && echo writable=1',
  'elif [ -w "$d" ]; then echo writable=1',
  'fi',
].join('\n');

/** Read the spool state for `name` in `dir` on `host` (and sweep spools abandoned for a week). */
export async function inspectSpool(host: BtrfsHost, dir: string, name: string): Promise<SpoolState> {
  const r = await host.run(['sh', '-c', INSPECT_SCRIPT, 'sh', dir, name]);
  const [head = '', identity = ''] = r.stdout.split('@@identity\n');
  const kv = new Map(
    head
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  if (r.code !== 0) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_SPOOL',
      `${where(host, dir)}: cannot inspect the resume spool: ${r.stderr.trim()}`,
    );
  }
  const at = where(host, spoolPath(dir, name));
  if (kv.has('busy')) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_BUSY',
      `${at} is in use by another transfer of the same snapshot that is still running; wait for it or stop it`,
    );
  }
  const why = !kv.has('flock')
    ? `flock (util-linux) not found on ${host.label}`
    : !kv.has('writable')
      ? `${where(host, dir)} is not writable by this user (create ${where(host, `${dir.replace(/\/+$/, '')}/${SPOOL_DIR}`)} owned by it to enable resume)`
      : '';
  return {
    usable: why === '',
    why,
    exists: kv.has('exists'),
    size: Number(kv.get('size') ?? 0) || 0,
    identity,
    partialUuid: kv.get('partial')?.trim().toLowerCase() || null,
    available: Number(kv.get('avail') ?? 0) || 0,
  };
}

async function runSpool(host: BtrfsHost, script: string, args: readonly string[], what: string) {
  const r = await host.run(['sh', '-c', script, 'sh', ...args]);
  if (r.code !== 0) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_SPOOL',
      `${where(host, args[0]!)}: ${what} failed: ${r.stderr.trim()}`,
    );
  }
  return r.stdout;
}

/** SHA-256 of the spooled stream (read on the receiving host). */
export async function hashSpool(host: BtrfsHost, spool: string): Promise<string> {
  const out = await runSpool(host, 'sha256sum <"$1/stream"', [spool], 'hashing the spool');
  const m = /^([0-9a-f]{64})/.exec(out);
  if (!m) throw hostError(host, 'SSHMUX_ERR_BTRFS_SPOOL', `${where(host, spool)}: no SHA-256 from sha256sum`);
  return m[1]!;
}

/** Create (or keep, truncated to `offset` bytes) the spool and write its identity record. */
export async function prepareSpool(host: BtrfsHost, spool: string, identity: string, offset: number) {
  await runSpool(
    host,
    'mkdir -p "$1" && printf "%s" "$2" >"$1/identity" && touch "$1/stream" && truncate -s "$3" "$1/stream" && rm -f "$1/partial"',
    [spool, identity, String(offset)],
    'preparing the spool',
  );
}

/** Remove a spool (and the spool directory once empty). */
export async function discardSpool(host: BtrfsHost, spool: string): Promise<void> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  await runSpool(host, 'rm -rf "$1"; rmdir "${1%/*}" 2>/dev/null; exit 0', [spool], 'removing the spool');
}

/**
 * Delete the partial subvolume an interrupted transfer left at `target`, recognised by the UUID
 * its spool recorded (it has no Received UUID: btrfs receive sets that only at the end).
 */
export async function removeOwnPartial(
  host: BtrfsHost,
  caps: HostCapabilities,
  target: string,
  uuid: string,
): Promise<void> {
  const r = await host.run([...caps.btrfs, 'subvolume', 'delete', target]);
  if (r.code !== 0) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_EXISTS',
      `${where(host, target)} is the partial subvolume (UUID ${uuid}) an interrupted transfer left, but deleting it failed: ${r.stderr.trim()}`,
    );
  }
}
