import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostConfigFrom } from '../../../src/mux/daemon-session.js';
import {
  checkHelloProtocol,
  checkWelcome,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_FRAME,
  PROTOCOL_VERSION,
} from '../../../src/mux/protocol.js';
import { chunked, classified } from './classified.js';

const stream = fc.constantFrom(0 as const, 1 as const, 2 as const);
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });
const frame: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .tuple(stream, fc.uint8Array({ maxLength: 300 }))
    .map(([s, d]) => ({ type: FrameType.Data, stream: s, data: Buffer.from(d) }) as Frame),
  fc
    .tuple(stream, fc.nat({ max: 0xffffffff }))
    .map(([s, credit]) => ({ type: FrameType.Window, stream: s, credit }) as Frame),
  stream.map((s) => ({ type: FrameType.Eof, stream: s }) as Frame),
  fc
    .tuple(
      fc.constantFrom(FrameType.Hello, FrameType.Open, FrameType.Exit, FrameType.Error, FrameType.Control),
      jsonObject,
    )
    .map(([type, body]) => ({ type, body }) as unknown as Frame),
);

/** Feed chunks; every push either returns frames or throws a classified error, and nothing is buffered past one frame. */
function decodeAll(chunks: readonly Buffer[], maxFrame = MAX_FRAME): Frame[] {
  const d = new FrameDecoder(maxFrame);
  const out: Frame[] = [];
  for (const c of chunks) {
    out.push(...d.push(c));
    expect(d.buffered).toBeLessThan(4 + maxFrame);
  }
  return out;
}

describe('mux wire protocol decoder on hostile bytes', () => {
  it('round-trips any frame sequence however the socket chunks it', () => {
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map(encodeFrame));
          const r = classified('FrameDecoder', () => decodeAll(chunked(wire, cuts)));
          expect(r.ok).toBe(true);
          if (r.ok) expect(JSON.parse(JSON.stringify(r.value))).toEqual(JSON.parse(JSON.stringify(frames)));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('random and corrupted bytes decode or fail with a ProtocolError, never buffering past the frame limit', () => {
    const corrupted = fc
      .tuple(
        fc.array(frame, { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      )
      .map(([frames, edits]) => {
        const b = Buffer.concat(frames.map(encodeFrame));
        for (const [at, byte] of edits) b[at % b.length] = byte;
        return b;
      });
    fc.assert(
      fc.property(
        fc.oneof(
          corrupted,
          fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)),
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        (wire, cuts) => {
          const r = classified('FrameDecoder', () => decodeAll(chunked(wire, cuts), 4096));
          if (!r.ok)
            expect(r.error).toMatchObject({ kind: 'local', code: expect.stringMatching(/^SSHMUX_ERR_MUX_/) });
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('hello and welcome checks refuse any hostile JSON body with a ProtocolError', () => {
    fc.assert(
      fc.property(jsonObject, (body) => {
        const r = classified('checkHelloProtocol', () => checkHelloProtocol(body as never, '1.0.0'));
        if (r.ok) expect(body).toMatchObject({ protocol: PROTOCOL_VERSION });
        classified('checkWelcome', () => checkWelcome(body as never, '1.0.0'));
      }),
      { numRuns: 2_000 },
    );
  });

  it("the daemon's check of an open frame's host classifies any JSON it is sent", () => {
    fc.assert(
      fc.property(fc.oneof(jsonObject, fc.jsonValue({ maxDepth: 2 })), (raw) => {
        const r = classified('hostConfigFrom', () => hostConfigFrom(raw as Record<string, unknown>));
        if (!r.ok) expect(r.error).toMatchObject({ kind: 'config' });
      }),
      { numRuns: 2_000 },
    );
  });
});
