import type { RateLimiter } from '../push/rate-limiter.js';
import type { SftpClient } from './sftp-client.js';
import type { ResolvedTransferOptions } from './transfer-options.js';

/** What the files of one `upload`/`download`/`pull` share. */
export interface XferContext {
  readonly client: SftpClient;
  readonly preserve: boolean;
  readonly resume: boolean;
  readonly limiter: RateLimiter | undefined;
  /** Aborted when the caller aborts or another file of the same call failed. */
  readonly signal: AbortSignal;
  /** Content bytes just written (progress). */
  bytes(n: number): void;
  /** A resumed prefix was accepted (its bytes are not transferred again). */
  resumed(n: number): void;
  /** SHA-256 (hex) of the first `length` bytes of a remote file; undefined when the server cannot say. */
  remotePrefixHash(path: Buffer, length: number): Promise<string | undefined>;
  /** Temporary files in existence, as latin1 keys, so that an abort can remove them. */
  readonly remoteTemps: Set<string>;
  readonly localTemps: Set<string>;
}

export type XferSettings = Pick<ResolvedTransferOptions, 'preserve' | 'resume'>;

const SUFFIX = Buffer.from('.sshmux-partial');

/**
 * `dir/.NAME.sshmux-partial` for `dir/NAME`, the name cut so that it fits NAME_MAX (255): the
 * same name every time, so an interrupted transfer can be found and continued (push's name too).
 */
export function partialSibling(path: Buffer): Buffer {
  const slash = path.lastIndexOf(0x2f);
  const dir = path.subarray(0, slash + 1);
  const base = path.subarray(slash + 1);
  const room = 255 - 1 - SUFFIX.length;
  return Buffer.concat([dir, Buffer.from('.'), base.subarray(0, room), SUFFIX]);
}

/** Directory and last component of a path, for commands run inside the directory. */
export function splitPath(path: Buffer): { dir: Buffer; base: Buffer } {
  const slash = path.lastIndexOf(0x2f);
  if (slash === -1) return { dir: Buffer.from('.'), base: path };
  return { dir: slash === 0 ? Buffer.from('/') : path.subarray(0, slash), base: path.subarray(slash + 1) };
}
