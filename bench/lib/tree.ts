import { randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A tree of `files` random files of about `bytes` in total, 100 per directory, sizes spread
 * from 0.5× to 1.5× the mean so both per-file overhead and hashing speed count. Files are
 * windows into one random buffer (distinct offsets), which is cheap and still incompressible.
 * Returns the exact number of bytes written.
 */
export function makeTree(root: string, files: number, bytes: number): number {
  const mean = bytes / files;
  const random = randomFillSync(Buffer.alloc(Math.ceil(mean * 1.5) + 64 * 1024));
  let written = 0;
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const size = Math.round(mean * (0.5 + ((i * 7919) % 1000) / 1000));
    const start = (i * 4099) % (random.length - size + 1);
    writeFileSync(path.join(dir, `f${i}.bin`), random.subarray(start, start + size));
    written += size;
  }
  return written;
}
