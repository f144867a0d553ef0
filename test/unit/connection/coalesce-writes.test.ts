import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { coalesceWrites } from '../../../src/connection/coalesce-writes.js';

/** A Writable that records each call it gets: one entry per `_write`, one per `_writev` batch. */
function recorder() {
  const calls: string[][] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { sink, calls };
}

describe('coalesceWrites', () => {
  it('sends the writes of one tick as one batch, in order, at the end of the tick', async () => {
    const { sink, calls } = recorder();
    coalesceWrites(sink);
    sink.write(Buffer.from('a'));
    sink.write(Buffer.from('b'));
    sink.write(Buffer.from('c'));
    expect(calls).toEqual([]);
    await new Promise((r) => process.nextTick(r));
    expect(calls).toEqual([['a', 'b', 'c']]);
    sink.write(Buffer.from('d'));
    await new Promise((r) => process.nextTick(r));
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('still flushes on end() and leaves the stream uncorked', async () => {
    const { sink, calls } = recorder();
    coalesceWrites(sink);
    sink.write(Buffer.from('x'));
    sink.end(Buffer.from('y'));
    await new Promise((r) => sink.on('finish', r));
    expect(calls.flat()).toEqual(['x', 'y']);
    expect(sink.writableCorked).toBe(0);
  });

  it('restores the plain write', () => {
    const { sink, calls } = recorder();
    const restore = coalesceWrites(sink);
    restore();
    sink.write(Buffer.from('z'));
    expect(calls).toEqual([['z']]);
  });
});
