import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressMeter } from '../../../src/btrfs/progress-meter.js';
import { StreamSizer } from '../../../src/btrfs/stream-size.js';

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(type, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

function cmd(type: number, ...attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const h = Buffer.alloc(10);
  h.writeUInt32LE(body.length, 0);
  h.writeUInt16LE(type, 4);
  return Buffer.concat([h, body]);
}

const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

describe('StreamSizer', () => {
  it('counts metadata commands as they are and each UPDATE_EXTENT as the WRITE commands it stands for', () => {
    const header = Buffer.concat([Buffer.from('btrfs-stream\0'), Buffer.from([1, 0, 0, 0])]);
    const mkfile = cmd(3, tlv(15, Buffer.from('dir/file')));
    const extent = cmd(22, tlv(15, Buffer.from('dir/file')), tlv(18, u64(0)), tlv(4, u64(100_000)));
    const end = cmd(21);
    const stream = Buffer.concat([header, mkfile, extent, end]);
    const sizer = new StreamSizer();
    // Fed in awkward pieces: the parser must carry partial commands over.
    for (let i = 0; i < stream.length; i += 7) sizer.push(stream.subarray(i, i + 7));
    // 100000 bytes in ceil(100000 / 49152) = 3 WRITEs of 10 + (4 + 8) + (4 + 8) + 4 bytes each.
    const writes = 100_000 + 3 * (10 + 12 + 12 + 4);
    expect(sizer.total).toBe(header.length + mkfile.length + writes + end.length);
  });
});

describe('ProgressMeter ETA', () => {
  it('gives none until data flowed 500 ms, then one from the rate after the first chunk; a late total counts', () => {
    let t = 0;
    const meter = new ProgressMeter({ now: () => t });
    const source = new EventEmitter();
    meter.observe(source as unknown as Readable);
    const chunk = (n: number, at: number) => {
      t = at;
      source.emit('data', Buffer.alloc(n));
    };
    chunk(1_000_000, 2_000); // after a slow start: connection, spawn
    chunk(100_000, 2_100);
    meter.setTotal(3_000_000);
    expect(meter.snapshot().etaMs).toBeNull();
    for (let at = 2_200; at <= 3_000; at += 100) chunk(100_000, at);
    // 1 MB/s since the first chunk; 1 MB left.
    const e = meter.snapshot();
    expect(e.bytes).toBe(2_000_000);
    expect(e.etaMs).toBeCloseTo(1_000, -1);
  });
});
