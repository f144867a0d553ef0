/**
 * Manifest entries. Paths are kept as raw bytes in "binary" (latin1) strings: one JS code
 * unit per byte, so any file name (non-UTF-8 included) round-trips exactly and compares in
 * byte order. Use `rawPath`/`displayPath` (raw-path.ts) to convert at the edges.
 */

/** A regular file and its content hash. */
export interface FileEntry {
  /** A regular file. */
  readonly type: 'file';
  /** Lowercase hex SHA-256 of the content. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly size: number;
}

/** A symbolic link, listed as a link and never followed. */
export interface SymlinkEntry {
  /** A symbolic link (not followed). */
  readonly type: 'symlink';
  /** The link target as raw bytes (binary string). */
  readonly target: string;
}

/** An entry that could not be read (permission, I/O error, vanished): reported, never silently missing. */
export interface ErrorEntry {
  /** A file that could not be read. */
  readonly type: 'error';
  /** Why (as sha256sum words it). */
  readonly message: string;
}

/** One entry of a manifest: a file's hash, a link's target, or why it could not be read. */
export type ManifestEntry = FileEntry | SymlinkEntry | ErrorEntry;

/** Relative path (raw bytes as binary string, `/`-separated, no `./` prefix) → entry. */
export type Manifest = Map<string, ManifestEntry>;

/** What `compareManifests` found, path lists sorted. */
export interface ManifestComparison {
  /** In the first manifest (e.g. local) but not in the second (remote). */
  readonly missing: string[];
  /** In the second but not in the first. */
  readonly extra: string[];
  /** In both but different: content, type, link target, or either side unreadable. */
  readonly mismatched: string[];
  /** In both and equal. */
  readonly identical: string[];
}
