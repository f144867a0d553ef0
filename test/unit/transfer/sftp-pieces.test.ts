import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SftpClient } from '../../../src/transfer/sftp-client.js';
import { Packet, PacketReader, PacketSplitter, PacketWriter } from '../../../src/transfer/sftp-codec.js';
import { fileSink } from '../../../src/transfer/sftp-transfer.js';

/** A scripted SFTP server on two PassThroughs: each request's id, and a way to answer in chunks. */
async function scripted() {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const requests: { type: number; id: number }[] = [];
  let arrived: (() => void) | undefined;
  const splitter = new PacketSplitter((pieces) => {
    const r = new PacketReader(Buffer.concat(pieces));
    const type = r.byte();
    if (type === Packet.Init) {
      toClient.write(new PacketWriter(Packet.Version).uint32(3).finish());
      return;
    }
    requests.push({ type, id: r.uint32() });
    arrived?.();
  });
  toServer.on('data', (c: Buffer) => splitter.push(c));
  const client = await SftpClient.start(toClient, toServer);
  const next = async () => {
    while (requests.length === 0) await new Promise<void>((r) => (arrived = r));
    return requests.shift()!;
  };
  /** Send `packet` to the client in pieces of `size` bytes, each a separate chunk. */
  const answer = async (packet: Buffer, size: number) => {
    for (let i = 0, n = 0; i < packet.length; i += size, n++) {
      toClient.write(packet.subarray(i, i + size));
      // The stream flows, so each write is its own chunk; yield now and then to let the client run.
      if (n % 256 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
  };
  return { client, next, answer };
}

describe('READ answers in pieces', () => {
  it('readPieces hands back the chunks as they came, read() the joined bytes, for any chunking', async () => {
    const { client, next, answer } = await scripted();
    const data = randomBytes(200_000);
    for (const size of [1, 7, 9, 13, 32_768, 300_000]) {
      const p = client.readPieces(Buffer.from('h'), 'f', 0, data.length);
      const { id } = await next();
      await answer(new PacketWriter(Packet.Data, id).string(data).finish(), size);
      const pieces = (await p)!;
      expect(Buffer.concat(pieces).equals(data), `chunks of ${size}`).toBe(true);
      // In pieces whenever the first chunk holds the 13 bytes of length and head; else joined once.
      if (size >= 13 && size < data.length) expect(pieces.length, `chunks of ${size}`).toBeGreaterThan(1);
      const q = client.read(Buffer.from('h'), 'f', 0, data.length);
      const second = await next();
      await answer(new PacketWriter(Packet.Data, second.id).string(data).finish(), size);
      expect((await q)!.equals(data)).toBe(true);
    }
  });

  it('a DATA answer shorter than its length fails that READ, and the session goes on', async () => {
    const { client, next, answer } = await scripted();
    const p = client.readPieces(Buffer.from('h'), 'f', 0, 100_000);
    const { id } = await next();
    // A packet whose string claims 100000 bytes but whose packet length holds 50000.
    const w = new PacketWriter(Packet.Data, id).uint32(100_000).raw(randomBytes(50_000)).finish();
    const failed = expect(p).rejects.toThrow(/truncated SFTP packet/);
    await answer(w, 16_384);
    await failed;
    const ok = client.readPieces(Buffer.from('h'), 'f', 0, 10);
    const again = await next();
    await answer(new PacketWriter(Packet.Data, again.id).string(Buffer.from('0123456789')).finish(), 4);
    expect(Buffer.concat((await ok)!).toString()).toBe('0123456789');
  });
});

describe('fileSink', () => {
  it('goes on after short writes until every piece is written at its offset', async () => {
    const file = Buffer.alloc(40);
    const fake = {
      // Writes at most 7 bytes a call, as a file system may under pressure.
      async writev(buffers: Buffer[], position: number) {
        const all = Buffer.concat(buffers).subarray(0, 7);
        all.copy(file, position);
        return { bytesWritten: all.length, buffers };
      },
    } as unknown as FileHandle;
    await fileSink(fake)([Buffer.from('abcdefghij'), Buffer.from('KLMNOPQRSTUVWXYZ')], 3);
    expect(file.subarray(3, 29).toString()).toBe('abcdefghijKLMNOPQRSTUVWXYZ');
  });

  it('fails, not loops, when the file takes no byte', async () => {
    const fake = {
      writev: async (buffers: Buffer[]) => ({ bytesWritten: 0, buffers }),
    } as unknown as FileHandle;
    await expect(fileSink(fake)([Buffer.from('x')], 0)).rejects.toThrow(/no byte written/);
  });
});
