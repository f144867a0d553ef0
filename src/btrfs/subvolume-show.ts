import { RemoteError } from '../errors.js';

/** One btrfs subvolume as `btrfs subvolume show` describes it. */
export interface SubvolumeInfo {
  /** Subvolume name (the last path component). */
  name: string;
  /** Full path the caller asked about (or the path `show` printed, relative to the filesystem top). */
  path: string;
  /** The subvolume's UUID. */
  uuid: string;
  /** UUID of the subvolume this one is a snapshot of; null for `-`. */
  parentUuid: string | null;
  /** UUID of the sent subvolume this one was received from; null for `-`. */
  receivedUuid: string | null;
  /** Whether it is read-only (a snapshot btrfs send accepts). */
  readonly: boolean;
  /** Last-modified transaction (`Generation`). */
  generation: number;
  /** Creation transaction (`Gen at creation`, btrbk's cgen): the stable order of snapshots on one filesystem. */
  cgen: number;
  /** Subvolume id (`Subvolume ID`). */
  id: number;
}

const NONE = new Set(['-', '', '<none>']);

/** The output a parse error quotes: enough to recognize it, bounded whatever the remote printed. */
function excerpt(text: string): string {
  return text.length > 500 ? `${text.slice(0, 500)}… (${text.length} characters)` : text;
}

function uuidOrNull(value: string | undefined): string | null {
  const v = (value ?? '').trim();
  return NONE.has(v) ? null : v.toLowerCase();
}

function int(value: string | undefined, field: string, text: string): number {
  const n = Number.parseInt((value ?? '').trim(), 10);
  if (!Number.isSafeInteger(n)) {
    throw new RemoteError(
      `btrfs subvolume show: no number in \`${field}\` (got ${JSON.stringify(value?.slice(0, 80))}):\n${excerpt(text)}`,
      { code: 'SSHMUX_ERR_BTRFS_SHOW_PARSE' },
    );
  }
  return n;
}

/**
 * Parse `btrfs subvolume show` output (btrfs-progs 4.x to 6.x): the first line is the path,
 * then `Key: value` lines indented by tabs. Keys are matched case-insensitively and extra
 * keys (quota groups, snapshot lists) are ignored. `path` overrides the printed first line.
 */
export function parseSubvolumeShow(text: string, path?: string): SubvolumeInfo {
  const fields = new Map<string, string>();
  const lines = text.split('\n');
  const first = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  for (const line of lines) {
    const m = /^\s+([A-Za-z][A-Za-z ()]*?):\s*(.*)$/.exec(line);
    if (m && !fields.has(m[1]!.toLowerCase())) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  const uuid = uuidOrNull(fields.get('uuid'));
  if (!uuid) {
    throw new RemoteError(`btrfs subvolume show: no UUID in output:\n${excerpt(text)}`, {
      code: 'SSHMUX_ERR_BTRFS_SHOW_PARSE',
    });
  }
  const flags = (fields.get('flags') ?? '').split(/[\s,]+/);
  const shownPath = path ?? first;
  const name = fields.get('name') ?? shownPath.replace(/\/+$/, '').split('/').pop() ?? shownPath;
  return {
    name,
    path: shownPath,
    uuid,
    parentUuid: uuidOrNull(fields.get('parent uuid')),
    receivedUuid: uuidOrNull(fields.get('received uuid')),
    readonly: flags.includes('readonly'),
    generation: int(fields.get('generation'), 'Generation', text),
    cgen: int(fields.get('gen at creation'), 'Gen at creation', text),
    id: int(fields.get('subvolume id'), 'Subvolume ID', text),
  };
}

/**
 * The UUID a `btrfs send` stream of this subvolume carries: its Received UUID when it was
 * itself received (the kernel forwards it so chains stay correlated), else its own UUID.
 */
export function streamUuid(info: Pick<SubvolumeInfo, 'uuid' | 'receivedUuid'>): string {
  return info.receivedUuid ?? info.uuid;
}

/** Total bytes from `btrfs filesystem du -s --raw` (first numeric column of the last line); null if absent. */
export function parseDuTotal(text: string): number | null {
  const rows = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d+\s/.test(l));
  const last = rows.at(-1);
  if (!last) return null;
  const n = Number.parseInt(last.split(/\s+/)[0]!, 10);
  return Number.isSafeInteger(n) ? n : null;
}
