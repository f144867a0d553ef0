import { Readable } from 'node:stream';

const ZERO = Buffer.alloc(1 << 20);

/**
 * `bytes` zero bytes without touching the disk. Chunks are views of one shared, never-written
 * buffer, so the source itself costs no allocation; cipher work does not depend on content
 * and compression is off on both sides.
 */
export function zeroStream(bytes: number, chunkSize = 256 * 1024): Readable {
  let left = bytes;
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(chunkSize, left);
      left -= n;
      this.push(ZERO.subarray(0, n));
    },
  });
}
