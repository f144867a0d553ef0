import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.js';
import { type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { connectDaemon, sendControl } from '../../../src/mux/mux-client.js';
import { MuxDaemon } from '../../../src/mux/mux-daemon.js';
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  PROTOCOL_VERSION,
} from '../../../src/mux/protocol.js';
import { unusedRunner } from '../mux/unused-runner.js';

/** Cases per CI run; the long soak sets more (SSHMUX_FUZZ_RUNS). */
const RUNS = Number(process.env.SSHMUX_FUZZ_RUNS ?? 150);

const runner = unusedRunner('the fuzzed client never got far enough to run anything');

const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });
const anyType = fc.constantFrom(...Object.values(FrameType), 0, 99, 255);
/** What a hostile client sends: a hello that may be right, then frames of any type, then raw bytes. */
const session = fc.record({
  hello: fc.oneof(
    fc.constant({ protocol: PROTOCOL_VERSION, version: '1.0.0', nonce: 'a'.repeat(64) }),
    jsonObject,
  ),
  frames: fc.array(
    fc.oneof(
      fc.tuple(anyType, jsonObject).map(([type, body]) => ({ type, body }) as unknown as Frame),
      fc
        .uint8Array({ maxLength: 64 })
        .map((d) => ({ type: FrameType.Data, stream: 1, data: Buffer.from(d) }) as Frame),
    ),
    { maxLength: 6 },
  ),
  tail: fc.uint8Array({ maxLength: 64 }),
});

/** Send it all; collect what the daemon answers until it closes (or 2 s pass). */
function play(socketPath: string, wire: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const s = net.connect(socketPath, () => s.write(wire));
    const timer = setTimeout(() => s.destroy(), 2_000);
    s.on('data', (d) => got.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got));
    });
  });
}

describe('the live daemon under fuzzed client bytes', () => {
  let dir: string;
  let endpoint: MuxEndpoint;
  let daemon: MuxDaemon;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-wire-fuzz-'));
    const env = {
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: path.join(dir, 'rt') },
      uid: process.getuid?.() ?? -1,
      username: 'me',
      tmpdir: dir,
      homedir: dir,
    };
    endpoint = selectEndpoint(env);
    prepareEndpoint(endpoint, env);
    daemon = new MuxDaemon({
      endpoint,
      runner,
      version: '1.0.0',
      logger: silentLogger(),
      helloTimeoutMs: 1_000,
    });
    expect(await daemon.start()).toBe('listening');
  });
  afterAll(async () => {
    await daemon.shutdown('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${RUNS} hostile sessions with a challenge, a classified error or a close, and keeps serving`, async () => {
    await fc.assert(
      fc.asyncProperty(session, async ({ hello, frames, tail }) => {
        const wire = Buffer.concat([
          encodeFrame({ type: FrameType.Hello, body: hello } as Frame),
          ...frames.map((f) => {
            try {
              return encodeFrame(f);
            } catch {
              return Buffer.alloc(0);
            }
          }),
          Buffer.from(tail),
        ]);
        const answer = await play(endpoint.socketPath, wire);
        // Whatever came back is well-formed frames: challenges and errors, never a welcome
        // (no fuzzed client can know the token), never a session.
        const decoded = new FrameDecoder().push(answer);
        for (const f of decoded) {
          expect([FrameType.Challenge, FrameType.Error]).toContain(f.type);
          if (f.type === FrameType.Error) expect(f.body.code).toMatch(/^SSHMUX_ERR_/);
        }
      }),
      { numRuns: RUNS },
    );
    const d = await connectDaemon(endpoint, '1.0.0');
    expect((await sendControl(d, { op: 'check' })).sessions).toBe(0);
  }, 120_000);

  it(`survives ${RUNS} fuzzed frame sequences from clients that proved the token`, async () => {
    await fc.assert(
      fc.asyncProperty(session, async ({ frames, tail }) => {
        const d = await connectDaemon(endpoint, '1.0.0');
        const closed = new Promise<void>((resolve) => d.conn.onClose(() => resolve()));
        for (const f of frames) {
          try {
            d.conn.socket.write(encodeFrame(f));
          } catch {
            // not encodable: a type the encoder refuses; the raw tail covers garbage
          }
        }
        d.conn.socket.write(Buffer.from(tail));
        await Promise.race([closed, new Promise((r) => setTimeout(r, 300))]);
        d.conn.destroy();
      }),
      { numRuns: RUNS },
    );
    const d = await connectDaemon(endpoint, '1.0.0');
    expect((await sendControl(d, { op: 'check' })).pid).toBe(process.pid);
  }, 120_000);
});
