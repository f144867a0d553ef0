import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkEmulator, resolveProfile } from '../../helpers/link-emulator.js';
import { listenOnLoopback, portOf } from '../../helpers/loopback.js';

/**
 * The WAN profile's link emulator is the benchmark's measuring instrument: these check that it
 * adds the round trip and holds the rate it says (lower bounds: a loaded machine can only make it
 * slower), keeps every byte in order, passes half-closes on after the data, and stops reading
 * when the receiver does (bounded memory, TCP push-back).
 */
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

/** A loopback server; `onConnection` handles each accepted socket. */
async function server(onConnection: (s: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer({ allowHalfOpen: true }, onConnection);
  await listenOnLoopback(srv);
  open.push({ close: () => new Promise((r) => srv.close(r)) });
  return srv;
}

async function link(
  target: net.Server,
  profile: Parameters<typeof resolveProfile>[0],
): Promise<LinkEmulator> {
  const l = await LinkEmulator.start({ targetPort: portOf(target, 'test server'), ...profile });
  open.push(l);
  return l;
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything `s` sends until its end, and when the end came. */
function readAll(s: net.Socket): Promise<{ data: Buffer; at: number }> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve) =>
    s.on('end', () => resolve({ data: Buffer.concat(parts), at: performance.now() })),
  );
}

describe('LinkEmulator', () => {
  it('adds the round trip to an echo, each time', async () => {
    const echo = await server((s) => s.pipe(s));
    const l = await link(echo, { rttMs: 60 });
    const c = await connect(l.port);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const back = new Promise<void>((r) => c.once('data', () => r()));
      c.write('ping');
      await back;
      rtts.push(performance.now() - t0);
    }
    c.destroy();
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(59);
    expect(l.counts).toMatchObject({ accepted: 1, up: 20, down: 20 });
  });

  it('holds the rate: 1 MiB at 8 Mbit/s takes ≥ 1 s, and arrives intact, before the FIN', async () => {
    let received: Promise<{ data: Buffer; at: number }> | undefined;
    const sink = await server((s) => {
      received = readAll(s);
      s.on('end', () => s.end());
    });
    const l = await link(sink, { rttMs: 10, upMbit: 8, downMbit: 100 });
    const c = await connect(l.port);
    const payload = randomBytes(1024 * 1024);
    const t0 = performance.now();
    c.end(payload);
    await new Promise((r) => c.on('close', r).resume());
    expect(received).toBeDefined();
    const { data, at } = await (received as Promise<{ data: Buffer; at: number }>);
    // 8 Mbit/s is 1,000,000 bytes per second.
    expect(at - t0).toBeGreaterThanOrEqual((payload.length / 1_000_000) * 1000);
    expect(createHash('sha256').update(data).digest('hex')).toBe(
      createHash('sha256').update(payload).digest('hex'),
    );
  });

  it('shares the rate between connections: two × 512 KiB at 8 Mbit/s at once take ≥ 1 s', async () => {
    const ends: Promise<{ data: Buffer; at: number }>[] = [];
    const sink = await server((s) => {
      ends.push(readAll(s));
      s.on('end', () => s.end());
    });
    const l = await link(sink, { rttMs: 10, upMbit: 8, downMbit: 100 });
    const [a, b] = await Promise.all([connect(l.port), connect(l.port)]);
    const payload = randomBytes(512 * 1024);
    const t0 = performance.now();
    a!.end(payload);
    b!.end(payload);
    await Promise.all([a, b].map((c) => new Promise((r) => c!.on('close', r).resume())));
    const got = await Promise.all(ends);
    expect(got.map((g) => g.data.length)).toEqual([payload.length, payload.length]);
    // One link of 1,000,000 bytes per second carried both: not one link each.
    expect(Math.max(...got.map((g) => g.at)) - t0).toBeGreaterThanOrEqual(
      ((2 * payload.length) / 1_000_000) * 1000,
    );
  });

  it('stops reading when the receiver does: what the sender gets rid of stays bounded', async () => {
    let held: net.Socket | undefined;
    const stalled = await server((s) => {
      held = s;
      s.pause();
    });
    const l = await link(stalled, { rttMs: 2, upMbit: 1000, bufferBytes: 64 * 1024 });
    const c = await connect(l.port);
    // Keep writing for a second, each time the socket drains: an emulator that kept reading would
    // let hundreds of MiB through; one that pushes back stops the sender once the buffers are full.
    const chunk = Buffer.alloc(64 * 1024);
    const until = performance.now() + 1000;
    while (performance.now() < until) {
      if (!c.write(chunk)) {
        await Promise.race([
          new Promise((r) => c.once('drain', r)),
          new Promise((r) => setTimeout(r, Math.max(1, until - performance.now()))),
        ]);
      }
    }
    const flushed = c.bytesWritten - c.writableLength;
    // Kernel buffers on both hops (a few MiB on loopback) plus the emulator's 64 KiB + in-flight bytes.
    expect(flushed).toBeLessThan(48 * 1024 * 1024);
    expect(flushed).toBeGreaterThan(64 * 1024);
    c.destroy();
    held?.destroy();
  });

  it('refuses a profile that makes no link', () => {
    expect(() => resolveProfile({ upMbit: 0 })).toThrow(/upMbit/);
    expect(() => resolveProfile({ rttMs: -1 })).toThrow(/rttMs/);
    expect(resolveProfile({})).toMatchObject({ rttMs: 40, upMbit: 100, downMbit: 100, bufferBytes: 500_000 });
  });
});
