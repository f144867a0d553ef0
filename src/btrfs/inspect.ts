import path from 'node:path/posix';
import { LocalError, RemoteError, type SshmuxError } from '../errors.js';
import type { BtrfsHost } from './host.js';
import type { HostCapabilities } from './probe.js';
import { parseSubvolumeShow, type SubvolumeInfo } from './subvolume-show.js';

/** An error about the state of a host (a path, a filesystem): `remote` for SSH destinations, `local` here. */
export function hostError(host: BtrfsHost, code: string, message: string, cause?: unknown): SshmuxError {
  const opts = { code, ...(cause !== undefined && { cause }) };
  return host.destination === undefined
    ? new LocalError(message, opts)
    : new RemoteError(message, { ...opts, destination: host.destination });
}

function where(host: BtrfsHost, p: string): string {
  return host.destination === undefined ? p : `${host.destination}:${p}`;
}

const SUBVOL_CHECK =
  '[ -e "$1" ] || { echo state=missing; exit 0; }; ' +
  '[ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %i "$1")" = 256 ] || { echo state=other; exit 0; }; ' +
  'p=$1; shift; echo state=subvol; exec "$@" subvolume show "$p"';

/** `btrfs subvolume show` of a path, or `missing` / `other` (exists but is no subvolume root). */
export async function showSubvolume(
  host: BtrfsHost,
  caps: HostCapabilities,
  p: string,
): Promise<SubvolumeInfo | 'missing' | 'other'> {
  const r = await host.run(['sh', '-c', SUBVOL_CHECK, 'sh', p, ...caps.btrfs]);
  const [first, ...rest] = r.stdout.split('\n');
  if (first === 'state=missing') return 'missing';
  if (first === 'state=other') return 'other';
  if (first !== 'state=subvol' || r.code !== 0) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_SHOW',
      `${where(host, p)}: btrfs subvolume show failed (exit ${r.code}): ${r.stderr.trim()}`,
    );
  }
  return parseSubvolumeShow(rest.join('\n'), p);
}

/** A read-only subvolume to send from: exists, is a subvolume, is read-only. */
export async function requireSnapshot(
  host: BtrfsHost,
  caps: HostCapabilities,
  p: string,
  role = 'source',
): Promise<SubvolumeInfo> {
  const info = await showSubvolume(host, caps, p);
  if (info === 'missing')
    throw hostError(host, 'SSHMUX_ERR_BTRFS_MISSING', `${role} ${where(host, p)} does not exist`);
  if (info === 'other') {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_NOT_SUBVOLUME',
      `${role} ${where(host, p)} is not a btrfs subvolume`,
    );
  }
  if (!info.readonly) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_WRITABLE',
      `${role} ${where(host, p)} is writable: btrfs refuses to send writable subvolumes; ` +
        `send a read-only snapshot of it (btrfs subvolume snapshot -r ${p} ${p}.snap)`,
    );
  }
  return info;
}

const LIST_SCRIPT =
  'd=$1; shift; for e in "$d"/*; do ' +
  '[ -d "$e" ] && [ ! -L "$e" ] || continue; [ "$(stat -c %i "$e")" = 256 ] || continue; ' +
  'printf "@@sshmux-subvol %s\\n" "$e"; "$@" subvolume show "$e" 2>&1 || echo "@@sshmux-show-failed"; done';

/** Parse the output of the directory listing script: one `show` per subvolume, each after a marker line. */
export function parseSubvolumeBlocks(
  text: string,
): { path: string; info: SubvolumeInfo | null; error: string }[] {
  const out: { path: string; info: SubvolumeInfo | null; error: string }[] = [];
  for (const block of text.split(/^@@sshmux-subvol /m).slice(1)) {
    const nl = block.indexOf('\n');
    const p = nl === -1 ? block : block.slice(0, nl);
    const body = nl === -1 ? '' : block.slice(nl + 1);
    if (body.includes('@@sshmux-show-failed')) {
      out.push({ path: p, info: null, error: body.replace('@@sshmux-show-failed', '').trim() });
    } else {
      out.push({ path: p, info: parseSubvolumeShow(body, p), error: '' });
    }
  }
  return out;
}

/** The subvolumes directly inside `dir` (hidden entries skipped), each as `btrfs subvolume show` tells. */
export async function subvolumesIn(
  host: BtrfsHost,
  caps: HostCapabilities,
  dir: string,
): Promise<SubvolumeInfo[]> {
  const r = await host.run(['sh', '-c', LIST_SCRIPT, 'sh', dir, ...caps.btrfs]);
  if (r.code !== 0) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_LIST',
      `${where(host, dir)}: listing subvolumes failed: ${r.stderr.trim()}`,
    );
  }
  const blocks = parseSubvolumeBlocks(r.stdout);
  const failed = blocks.find((b) => b.info === null);
  if (failed) {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_SHOW',
      `${where(host, failed.path)}: btrfs subvolume show failed: ${failed.error}`,
    );
  }
  return blocks.map((b) => b.info!);
}

const DIR_SCRIPT =
  'd=$1; [ -e "$d" ] || { echo state=missing; exit 0; }; [ -d "$d" ] || { echo state=notdir; exit 0; }; ' +
  'echo state=dir; echo "fstype=$(stat -f -c %T "$d")"; ' +
  'if [ -w "$d" ]; then echo writable=1; else echo writable=0; fi; ' +
  'echo "mount=$(findmnt -n -o OPTIONS --target "$d" 2>/dev/null)"; ' +
  'if [ -n "$2" ] && { [ -e "$d/$2" ] || [ -L "$d/$2" ]; }; then echo name=exists; fi';

/** A receiving directory: exists, is on btrfs, is writable by whoever runs btrfs there. Tells whether `name` is taken. */
export async function requireReceiveDir(
  host: BtrfsHost,
  caps: HostCapabilities,
  dir: string,
  name: string,
): Promise<{ nameTaken: boolean }> {
  const r = await host.run(['sh', '-c', DIR_SCRIPT, 'sh', dir, name]);
  const kv = new Map(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const state = kv.get('state');
  if (r.code !== 0 || state === undefined) {
    throw hostError(host, 'SSHMUX_ERR_BTRFS_DIR', `${where(host, dir)}: cannot inspect: ${r.stderr.trim()}`);
  }
  if (state === 'missing')
    throw hostError(host, 'SSHMUX_ERR_BTRFS_MISSING', `destination ${where(host, dir)} does not exist`);
  if (state === 'notdir') {
    throw hostError(host, 'SSHMUX_ERR_BTRFS_NOT_DIR', `destination ${where(host, dir)} is not a directory`);
  }
  const fstype = kv.get('fstype') ?? '';
  if (fstype !== 'btrfs') {
    throw hostError(
      host,
      'SSHMUX_ERR_BTRFS_NOT_BTRFS',
      `destination ${where(host, dir)} is on ${fstype || 'an unknown filesystem'}, not btrfs: btrfs receive needs a btrfs directory`,
    );
  }
  // As root the access check is real; through sudo only a read-only mount would stop root.
  const mountRo = (kv.get('mount') ?? '').split(',').includes('ro');
  const writable = caps.privilege === 'root' ? kv.get('writable') === '1' : !mountRo;
  if (!writable) {
    throw hostError(host, 'SSHMUX_ERR_BTRFS_READONLY_DIR', `destination ${where(host, dir)} is not writable`);
  }
  return { nameTaken: kv.get('name') === 'exists' };
}

/** Directory and last component of a snapshot path (`/a/b/` → `/a`, `b`). */
export function splitPath(p: string): { dir: string; name: string } {
  const clean = p.length > 1 ? p.replace(/\/+$/, '') : p;
  return { dir: path.dirname(clean), name: path.basename(clean) };
}
