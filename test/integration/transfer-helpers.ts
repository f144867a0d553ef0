import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StartedSshd } from '../helpers/sshd.js';
import { makeLocalTree } from '../unit/manifest/helpers.js';
import { containerBytes } from './manifest-env.js';

export const BIG = 'big 20MiB.bin';
export const BIG_SIZE = 20 << 20;
/** A 255-byte name, NAME_MAX: its temporary name has to be cut to fit. */
export const LONG = 'L'.repeat(250) + '.long';

/**
 * Per entry, in byte order: type, permission bits, whole-second mtime (not for links, whose
 * times SFTP cannot set), link target. Runs on the test host and in the container alike.
 */
export const LISTING = `cd -- "$1" && find . -mindepth 1 \\( -type l -printf '%P\\0%y -> %l\\0' \\) -o -printf '%P\\0%y %m %T@\\0'`;

export function parseListing(out: Buffer): string[] {
  const parts = out.toString('latin1').split('\0');
  const lines: string[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    lines.push(`${parts[i]}\t${parts[i + 1]!.replace(/^(\w \d+ \d+)\.\d+$/, '$1')}`);
  }
  return lines.sort();
}

export function localListing(dir: string | Buffer): string[] {
  return parseListing(execFileSync('sh', ['-c', LISTING, 'sh', dir as string], { maxBuffer: 64 << 20 }));
}

export async function remoteListing(sshd: StartedSshd, dir: string): Promise<string[]> {
  return parseListing(await containerBytes(sshd, `sh -c '${LISTING.replace(/'/g, `'\\''`)}' sh "${dir}"`));
}

export const SHA_LIST = `cd -- "$1" && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --`;

export async function remoteSha(sshd: StartedSshd, dir: string): Promise<Buffer> {
  return containerBytes(sshd, `sh -c '${SHA_LIST.replace(/'/g, `'\\''`)}' sh "${dir}"`);
}

export function localSha(dir: string): Buffer {
  return execFileSync('sh', ['-c', SHA_LIST, 'sh', dir], { maxBuffer: 64 << 20 });
}

/**
 * The hostile-name fixture tree (spaces, newlines, leading dashes, quotes, `*?[`, invalid
 * UTF-8, empty file, two symlinks) plus a 255-byte name, a 20 MiB file, unusual modes, and
 * whole-second mtimes in the past on everything.
 */
export function makeTransferTree(): string {
  const dir = makeLocalTree({ SMALL: '30', SPARSE: '0' });
  writeFileSync(path.join(dir, LONG), 'long name\n');
  writeFileSync(path.join(dir, BIG), randomBytes(BIG_SIZE));
  mkdirSync(path.join(dir, 'private dir'), { mode: 0o700 });
  writeFileSync(path.join(dir, 'private dir', 'script -x'), '#!/bin/sh\n');
  chmodSync(path.join(dir, 'private dir', 'script -x'), 0o751);
  chmodSync(path.join(dir, '*'), 0o600);
  let t = 1_600_000_000;
  const walk = execFileSync('sh', ['-c', 'cd -- "$1" && find . -depth ! -type l -print0', 'sh', dir]);
  for (const rel of walk.toString('latin1').split('\0').filter(Boolean)) {
    const p = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(rel, 'latin1')]);
    t += 7;
    utimesSync(p, t - 3, t);
  }
  return dir;
}
