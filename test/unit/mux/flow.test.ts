import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { CreditSink, CreditSource } from '../../../src/mux/flow.js';
import { type Frame, FrameType, MAX_DATA } from '../../../src/mux/protocol.js';

function dataBytes(frames: Frame[]): number {
  return frames.reduce((n, f) => n + (f.type === FrameType.Data ? f.data.length : 0), 0);
}

describe('CreditSink', () => {
  it('never sends more than the granted credit, and resumes on grants', async () => {
    const sent: Frame[] = [];
    const sink = new CreditSink(1, (f) => sent.push(f), 100_000);
    const source = Readable.from([Buffer.alloc(300_000, 1)]);
    const done = pipeline(source, sink);
    await new Promise((r) => setImmediate(r));
    expect(dataBytes(sent)).toBe(100_000);
    expect(sink.credit).toBe(0);
    sink.grant(50_000);
    expect(dataBytes(sent)).toBe(150_000);
    sink.grant(1_000_000);
    await done;
    expect(dataBytes(sent)).toBe(300_000);
    expect(sent.at(-1)).toEqual({ type: FrameType.Eof, stream: 1 });
    // Frames are cut so control frames can interleave.
    expect(Math.max(...sent.map((f) => (f.type === FrameType.Data ? f.data.length : 0)))).toBe(MAX_DATA);
  });

  it('holds a write (backpressure) until credit arrives, so the source pauses', async () => {
    const sent: Frame[] = [];
    const sink = new CreditSink(2, (f) => sent.push(f), 10);
    let written = false;
    sink.write(Buffer.alloc(25), () => {
      written = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(false);
    sink.grant(10);
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(false);
    sink.grant(5);
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(true);
    expect(dataBytes(sent)).toBe(25);
  });

  it('fails a held write when destroyed', async () => {
    const sink = new CreditSink(1, () => {}, 0);
    const err = new Promise((resolve) => sink.write(Buffer.from('x'), resolve));
    sink.destroy();
    expect(await err).toBeInstanceOf(Error);
  });
});

describe('CreditSource', () => {
  it('grants credit back only after the local sink took the bytes, in quarter-window batches', async () => {
    const grants: number[] = [];
    const callbacks: (() => void)[] = [];
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        callbacks.push(() => cb());
      },
    });
    const src = new CreditSource(
      1,
      slow,
      (f) => {
        if (f.type === FrameType.Window) grants.push(f.credit);
      },
      400,
    );
    for (let i = 0; i < 4; i++) src.write(Buffer.alloc(60));
    expect(grants).toEqual([]);
    // Nothing consumed: nothing granted, however much arrived.
    callbacks.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(grants).toEqual([]);
    callbacks.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(grants).toEqual([120]);
    while (callbacks.length > 0) {
      callbacks.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await src.flushed();
    expect(grants).toEqual([120, 120]);
    expect(src.received).toBe(240);
  });

  it('round-trips a stream between a sink and a source without losing or reordering bytes', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d: Buffer) => chunks.push(d));
    let source!: CreditSource;
    const sink = new CreditSink(
      1,
      (f) => {
        // Deliver asynchronously, as a socket would.
        setImmediate(() => {
          if (f.type === FrameType.Data) source.write(f.data);
        });
      },
      64 * 1024,
    );
    source = new CreditSource(
      1,
      out,
      (f) => {
        if (f.type === FrameType.Window) setImmediate(() => sink.grant(f.credit));
      },
      64 * 1024,
    );
    const input = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => i % 251));
    await pipeline(Readable.from([input.subarray(0, 333_333), input.subarray(333_333)]), sink);
    await new Promise((r) => setTimeout(r, 50));
    await source.flushed();
    expect(Buffer.concat(chunks).equals(input)).toBe(true);
  });
});
