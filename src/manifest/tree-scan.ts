import type { Manifest } from './types.js';

/** One regular file as seen by a scan. */
export interface ScannedFile {
  readonly size: number;
  /** Modification time in whole seconds (SFTP v3 carries seconds only). */
  readonly mtime: number;
  /** Permission bits (`0o7777` part of st_mode). */
  readonly mode: number;
  /** Lowercase hex SHA-256 when the scan hashed contents. */
  readonly sha256?: string;
}

/** Everything a scan of one tree found, keyed by raw relative path. */
export interface TreeScan {
  readonly files: Map<string, ScannedFile>;
  /** Symlink → raw target. */
  readonly symlinks: Map<string, string>;
  /** Directories (below the root) → permission bits. */
  readonly dirs: Map<string, number>;
  /** Paths that could not be read → reason. A directory here means its contents are unknown. */
  readonly errors: Map<string, string>;
}

export function emptyScan(): TreeScan {
  return { files: new Map(), symlinks: new Map(), dirs: new Map(), errors: new Map() };
}

/** The manifest view of a hashed scan: files with hashes, symlinks, errors; sorted by byte order. */
export function manifestOfScan(scan: TreeScan): Manifest {
  const entries: [string, Manifest extends Map<string, infer V> ? V : never][] = [];
  for (const [p, f] of scan.files) {
    if (f.sha256 === undefined) throw new TypeError(`Scan has no hash for a file: ${JSON.stringify(p)}`);
    entries.push([p, { type: 'file', sha256: f.sha256, size: f.size }]);
  }
  for (const [p, target] of scan.symlinks) entries.push([p, { type: 'symlink', target }]);
  for (const [p, message] of scan.errors) entries.push([p, { type: 'error', message }]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(entries);
}
