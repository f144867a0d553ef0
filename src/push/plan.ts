import { rawBasename, rawDirname } from '../manifest/raw-path.js';
import type { ScannedFile, TreeScan } from '../manifest/tree-scan.js';

/** Suffix of the temporary file an upload writes before renaming it into place. */
export const PARTIAL_SUFFIX = '.sshmux-partial';

/** `dir/.name.sshmux-partial` for `dir/name`. */
export function partialPathOf(rel: string): string {
  const dir = rawDirname(rel);
  const tmp = `.${rawBasename(rel)}${PARTIAL_SUFFIX}`;
  return dir === '' ? tmp : `${dir}/${tmp}`;
}

/** The file a temporary name belongs to, or undefined when `rel` is not one. */
export function targetOfPartial(rel: string): string | undefined {
  const base = rawBasename(rel);
  if (!base.startsWith('.') || !base.endsWith(PARTIAL_SUFFIX) || base.length <= PARTIAL_SUFFIX.length + 1) {
    return undefined;
  }
  const dir = rawDirname(rel);
  const name = base.slice(1, -PARTIAL_SUFFIX.length);
  return dir === '' ? name : `${dir}/${name}`;
}

export interface PlannedUpload {
  readonly path: string;
  readonly file: ScannedFile;
  /** Size of a leftover temporary file on the remote that may be continued (≤ local size). */
  readonly partialSize: number | undefined;
}

export interface PushPlan {
  /** Remote entries of the wrong type in the way (a directory where a file goes, …): removed first. */
  readonly replace: string[];
  /** Directories to create, parents first, with the local mode to set at the end. */
  readonly mkdirs: { path: string; mode: number }[];
  readonly uploads: PlannedUpload[];
  /** Same content, different mode or mtime: only attributes are set. */
  readonly attributes: { path: string; file: ScannedFile }[];
  readonly symlinks: { path: string; target: string }[];
  /** Extraneous remote entries (only with `delete`), topmost only. */
  readonly deletes: string[];
  /** Local paths that could not be read: not pushed, reported at the end. */
  readonly localErrors: Map<string, string>;
  readonly unchanged: number;
}

export interface PlanOptions {
  /** Compare content hashes instead of size and mtime. Both scans must be hashed. */
  checksum: boolean;
  delete: boolean;
}

const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function remoteKind(remote: TreeScan, p: string): 'file' | 'symlink' | 'dir' | 'error' | undefined {
  if (remote.files.has(p)) return 'file';
  if (remote.symlinks.has(p)) return 'symlink';
  if (remote.dirs.has(p)) return 'dir';
  if (remote.errors.has(p)) return 'error';
  return undefined;
}

/**
 * Decide what a push does, from a local and a remote scan (pure: no I/O). A file is
 * unchanged when size and whole-second mtime match (or, with `checksum`, its SHA-256);
 * leftover temporary files are offered for resuming when no longer than the local file.
 */
export function planPush(local: TreeScan, remote: TreeScan, options: PlanOptions): PushPlan {
  const partials = new Map<string, number>();
  for (const [p, f] of remote.files) {
    const target = targetOfPartial(p);
    if (target !== undefined) partials.set(target, f.size);
  }
  const replace: string[] = [];
  const mkdirs: { path: string; mode: number }[] = [];
  const uploads: PlannedUpload[] = [];
  const attributes: { path: string; file: ScannedFile }[] = [];
  const symlinks: { path: string; target: string }[] = [];
  let unchanged = 0;

  for (const [p, mode] of [...local.dirs].sort(([a], [b]) => byBytes(a, b))) {
    const kind = remoteKind(remote, p);
    if (kind === 'dir') continue;
    if (kind !== undefined) replace.push(p);
    mkdirs.push({ path: p, mode });
  }
  for (const [p, file] of [...local.files].sort(([a], [b]) => byBytes(a, b))) {
    const kind = remoteKind(remote, p);
    if (kind === 'dir') replace.push(p);
    const theirs = kind === 'file' ? remote.files.get(p)! : undefined;
    const same =
      theirs !== undefined &&
      (options.checksum
        ? theirs.sha256 !== undefined && theirs.sha256 === file.sha256
        : theirs.size === file.size && theirs.mtime === file.mtime);
    if (!same) {
      const partial = partials.get(p);
      uploads.push({
        path: p,
        file,
        partialSize: partial !== undefined && partial <= file.size ? partial : undefined,
      });
    } else if (theirs.mode !== file.mode || theirs.mtime !== file.mtime) {
      attributes.push({ path: p, file });
    } else {
      unchanged++;
    }
  }
  for (const [p, target] of [...local.symlinks].sort(([a], [b]) => byBytes(a, b))) {
    const kind = remoteKind(remote, p);
    if (kind === 'symlink' && remote.symlinks.get(p) === target) {
      unchanged++;
      continue;
    }
    if (kind === 'dir') replace.push(p);
    symlinks.push({ path: p, target });
  }

  const deletes: string[] = [];
  if (options.delete) {
    const wanted = (p: string) =>
      local.files.has(p) || local.symlinks.has(p) || local.dirs.has(p) || local.errors.has(p);
    const uploading = new Set(uploads.map((u) => u.path));
    const candidates = [
      ...remote.files.keys(),
      ...remote.symlinks.keys(),
      ...remote.dirs.keys(),
      ...remote.errors.keys(),
    ]
      .filter((p) => {
        if (wanted(p)) return false;
        // A temporary file stays when its upload will continue it.
        const target = targetOfPartial(p);
        return !(target !== undefined && uploading.has(target));
      })
      .sort(byBytes);
    // Topmost only: `rm -rf dir` covers what is inside, and a local unreadable directory protects its remote twin.
    const removed = new Set<string>();
    for (const p of candidates) {
      if (ancestors(p).some((a) => removed.has(a) || local.errors.has(a))) continue;
      removed.add(p);
      deletes.push(p);
    }
  }
  return {
    replace,
    mkdirs,
    uploads,
    attributes,
    symlinks,
    deletes,
    localErrors: new Map(local.errors),
    unchanged,
  };
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}
