import { parseRemotePath } from '../config/remote-path.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Destination, RemoteRunner } from '../pool/types.js';
import { localScan } from './local-scan.js';
import { rawFromBytes, rawFromString } from './raw-path.js';
import { remoteScan } from './remote-scan.js';
import { manifestOfScan } from './tree-scan.js';
import type { Manifest } from './types.js';

/** A remote tree: `'dest:PATH'` (scp syntax), or a destination and a path; a Buffer path may hold any bytes. */
export type RemoteTree =
  | string
  | {
      /** The host. */
      dest: Destination;
      /** The directory on it (bytes for names that are not UTF-8). */
      path: string | Buffer;
    };

/** Destination and raw root path of a `RemoteTree`. */
export function resolveRemoteTree(tree: RemoteTree): { dest: Destination; rawPath: string } {
  if (typeof tree === 'string') {
    const { dest, path } = parseRemotePath(tree);
    return { dest, rawPath: rawFromString(path) };
  }
  if (tree === null || typeof tree !== 'object' || tree.dest === undefined) {
    throw new ConfigError(
      `Expected a remote tree like 'host:/dir' or { dest, path }, got \`${String(tree)}\``,
    );
  }
  const rawPath = Buffer.isBuffer(tree.path) ? rawFromBytes(tree.path) : rawFromString(tree.path || '.');
  return { dest: tree.dest, rawPath: rawPath || '.' };
}

/** Options of `remoteManifest`. */
export interface RemoteManifestOptions {
  /** Abort ends the remote hashing and rejects with `kind: aborted`. */
  signal?: AbortSignal;
  /** @default silent */
  logger?: Logger;
}

/**
 * Manifest of a remote tree from one remote pipeline (`find … -exec sha256sum -z`), parsed
 * as it streams: regular files with SHA-256, symlinks (not followed), unreadable entries
 * as errors. Keys are raw relative paths. Needs GNU find and coreutils on the remote.
 */
export async function remoteManifest(
  runner: RemoteRunner,
  tree: RemoteTree,
  options: RemoteManifestOptions = {},
): Promise<Manifest> {
  const { dest, rawPath } = resolveRemoteTree(tree);
  return manifestOfScan(await remoteScan(runner, dest, rawPath, { ...options, hash: true }));
}

/** Options of `localManifest`. */
export interface LocalManifestOptions {
  /** Files over 64 KiB hashed in parallel. @default 8 */
  concurrency?: number;
  /** The longest the walk holds the event loop before yielding, in ms. @default 8 */
  sliceMs?: number;
  /** Abort stops hashing and rejects with `kind: aborted`. */
  signal?: AbortSignal;
}

/** Manifest of a local directory, same shape and path convention as `remoteManifest`; streaming hashes. */
export async function localManifest(
  dir: string | Buffer,
  options: LocalManifestOptions = {},
): Promise<Manifest> {
  return manifestOfScan(await localScan(dir, { ...options, hash: true }));
}
