import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TREE_SCRIPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../fixtures/trees/make-hostile-tree.sh',
);

/** A fresh local hostile-name tree (see fixtures/trees/make-hostile-tree.sh). */
export function makeLocalTree(env: { SMALL?: string; SPARSE?: string } = {}): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'sshmux-tree-')), 'tree');
  execFileSync('sh', [TREE_SCRIPT, dir], { env: { ...process.env, SMALL: '20', SPARSE: '3M', ...env } });
  return dir;
}

/** GNU sha256sum over every regular file of `dir`, relative names, byte order: the reference output. */
export function gnuSha256sum(dir: string): Buffer {
  return execFileSync(
    'sh',
    [
      '-c',
      `cd -- "$1" && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum --`,
      'sh',
      dir,
    ],
    { maxBuffer: 64 << 20 },
  );
}
