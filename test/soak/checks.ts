import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseSubvolumeShow } from '../../src/btrfs/subvolume-show.js';
import { isSshmuxError } from '../../src/errors.js';
import { KINDS } from '../helpers/error-kinds.js';

/** True when `err` is an SshmuxError whose kind is one DESIGN.md lists. */
export function isClassified(err: unknown): boolean {
  return isSshmuxError(err) && KINDS.has(err.kind);
}

/** `n` bytes that depend only on `seed` (AES-CTR keystream): content a check can recompute. */
export function seededBytes(seed: number, n: number): Buffer {
  const key = createHash('sha256').update(`soak-${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return cipher.update(Buffer.alloc(n));
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Open TCP sockets of this process: its socket fds whose inode /proc/net/tcp{,6} lists. */
export function tcpSocketCount(): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while listing
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode && inode !== '0' && inodes.has(inode)) n++;
    }
  }
  return n;
}

/** Wait until `count()` is at most `limit`, up to `ms`; returns the last count. */
export async function settle(
  count: () => number | Promise<number>,
  limit: number,
  ms: number,
): Promise<number> {
  const end = Date.now() + ms;
  let n = await count();
  while (n > limit && Date.now() < end) {
    await sleep(200);
    n = await count();
  }
  return n;
}

/** Every entry under `dir`: type, mode and content hash (or link target). */
export function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = lstatSync(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(path.join(dir, r))}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else out[r] = `file ${mode} ${sha256(readFileSync(path.join(dir, r)))}`;
    }
  };
  walk('');
  return out;
}

/**
 * Entries of a receive directory (host path) that are not a finished received snapshot:
 * anything that is not a read-only subvolume carrying a Received UUID.
 */
export function unfinishedSubvolumes(dir: string): string[] {
  const bad: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    const p = path.join(dir, name);
    try {
      const info = parseSubvolumeShow(
        execFileSync('btrfs', ['subvolume', 'show', p], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
        p,
      );
      if (!info.readonly || info.receivedUuid === null) {
        bad.push(`${p} (readonly=${info.readonly}, received=${info.receivedUuid})`);
      }
    } catch (err) {
      bad.push(`${p}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return bad;
}

/** Hooks that count what must never happen in a healthy process; `stop()` removes them. */
export class ProcessHooks {
  readonly unhandled: string[] = [];
  readonly uncaught: string[] = [];
  readonly warnings: string[] = [];
  readonly #onRejection = (reason: unknown): void => {
    this.unhandled.push(String((reason as Error)?.stack ?? reason));
  };
  readonly #onException = (err: Error): void => {
    this.uncaught.push(String(err?.stack ?? err));
  };
  readonly #onWarning = (w: Error): void => {
    if (w.name !== 'ExperimentalWarning') this.warnings.push(`${w.name}: ${w.message}`);
  };

  constructor() {
    process.on('unhandledRejection', this.#onRejection);
    process.on('uncaughtException', this.#onException);
    process.on('warning', this.#onWarning);
  }

  stop(): void {
    process.off('unhandledRejection', this.#onRejection);
    process.off('uncaughtException', this.#onException);
    process.off('warning', this.#onWarning);
  }
}
