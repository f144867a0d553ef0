import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { type ProgressEvent, ProgressMeter } from '../../../src/btrfs/progress-meter.js';

function sink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

describe('ProgressMeter', () => {
  it('reports monotonic byte counts, throttled, ending with done at the stream byte count', async () => {
    let t = 0;
    const events: ProgressEvent[] = [];
    const meter = new ProgressMeter({
      onProgress: (e) => events.push(e),
      intervalMs: 1_000,
      total: 1000,
      now: () => t,
    });
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(100));
    await pipeline(
      Readable.from(
        (async function* () {
          for (const c of chunks) {
            t += 500;
            yield c;
          }
        })(),
      ),
      meter,
      sink(),
    );
    // A chunk every 500 ms and a report at most every 1000 ms: 5 throttled reports + the final one.
    expect(events.length).toBe(6);
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
    expect(events.at(-1)).toMatchObject({ bytes: 1000, done: true, total: 1000, etaMs: 0, elapsedMs: 5000 });
    expect(events.filter((e) => e.done)).toHaveLength(1);
    // 100 bytes per 500 ms.
    expect(events[2]!.rate).toBeCloseTo(200, 0);
    expect(events[2]!.etaMs).toBeCloseTo(((1000 - events[2]!.bytes) * 1000) / 200, -1);
    expect(meter.bytes).toBe(1000);
    expect(meter.lastActivity).toBe(5000);
  });

  it('gives no ETA without a size and never reports a total below the bytes seen', async () => {
    let t = 0;
    const events: ProgressEvent[] = [];
    const meter = new ProgressMeter({ onProgress: (e) => events.push(e), intervalMs: 0, now: () => t });
    const under = new ProgressMeter({
      onProgress: (e) => events.push(e),
      intervalMs: 0,
      total: 10,
      now: () => t,
    });
    t = 100;
    await pipeline(Readable.from([Buffer.alloc(50)]), meter, under, sink());
    expect(events.find((e) => e.total === null)?.etaMs).toBeNull();
    expect(events.filter((e) => e.total !== null).every((e) => e.total! >= e.bytes)).toBe(true);
  });

  it('fails the stream when the progress callback throws', async () => {
    const meter = new ProgressMeter({
      onProgress: () => {
        throw new Error('listener broke');
      },
    });
    await expect(pipeline(Readable.from([Buffer.alloc(10)]), meter, sink())).rejects.toThrow(
      'listener broke',
    );
  });
});

describe('ProgressMeter.observe', () => {
  it('counts a stream it is not a stage of, with the final report at its end', async () => {
    const events: ProgressEvent[] = [];
    const meter = new ProgressMeter({ onProgress: (e) => events.push(e), intervalMs: 0 });
    const source = Readable.from([Buffer.alloc(100), Buffer.alloc(200), Buffer.alloc(300)]);
    meter.observe(source);
    await pipeline(source, sink());
    expect(meter.bytes).toBe(600);
    expect(events.at(-1)).toMatchObject({ bytes: 600, done: true });
    expect(events.filter((e) => e.done)).toHaveLength(1);
  });

  it('fails the pipeline of the observed stream when the progress callback throws', async () => {
    const meter = new ProgressMeter({
      onProgress: () => {
        throw new Error('listener broke');
      },
    });
    const source = Readable.from([Buffer.alloc(10)]);
    meter.observe(source);
    await expect(pipeline(source, sink())).rejects.toThrow('listener broke');
  });
});
