import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { packetReader } from '../../../src/transfer/sftp-codec.js';

function framed(bodies: Buffer[]): Buffer {
  return Buffer.concat(
    bodies.flatMap((b) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return [len, b];
    }),
  );
}

async function read(chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const body of packetReader(Readable.from(chunks))) out.push(Buffer.from(body));
  return out;
}

describe('packetReader', () => {
  it('gives back every packet whatever the chunking: bytes, small pieces, big packets', async () => {
    const bodies = [1, 0, 7, 200_000, 3, 261_000, 5].map((n) => randomBytes(n));
    const stream = framed(bodies);
    for (const size of [1, 3, 4, 5, 4096, 32_768, 100_000, stream.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const got = await read(chunks);
      expect(got.length, `chunk size ${size}`).toBe(bodies.length);
      for (const [i, b] of got.entries())
        expect(b.equals(bodies[i]!), `packet ${i}, size ${size}`).toBe(true);
    }
  });

  it('refuses a packet longer than SFTP allows', async () => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(10 << 20);
    await expect(read([len])).rejects.toThrow(/too long/);
  });
});
