import { describe, expect, it } from 'vitest';
import {
  checkHelloProtocol,
  checkWelcome,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  MAX_FRAME,
  PROTOCOL_VERSION,
  ProtocolError,
} from '../../../src/mux/protocol.js';

const frames: Frame[] = [
  { type: FrameType.Hello, body: { protocol: PROTOCOL_VERSION, version: '1.2.3', nonce: 'ab' } },
  { type: FrameType.Data, stream: 1, data: Buffer.from('hello') },
  { type: FrameType.Data, stream: 0, data: Buffer.alloc(0) },
  { type: FrameType.Window, stream: 2, credit: 0xfffffffe },
  { type: FrameType.Eof, stream: 0 },
  { type: FrameType.Exit, body: { code: null, signal: 'KILL' } },
  { type: FrameType.Error, body: { kind: 'host-key', code: 'SSHMUX_ERR_HOST_KEY', message: 'x' } },
];

describe('mux protocol codec', () => {
  it('round-trips every frame kind', () => {
    const d = new FrameDecoder();
    const out = d.push(Buffer.concat(frames.map(encodeFrame)));
    expect(out).toEqual(frames);
    expect(d.buffered).toBe(0);
  });

  it('reassembles frames fed one byte at a time', () => {
    const wire = Buffer.concat(frames.map(encodeFrame));
    const d = new FrameDecoder();
    const out: Frame[] = [];
    for (const byte of wire) out.push(...d.push(Buffer.of(byte)));
    expect(out).toEqual(frames);
  });

  it('holds a partial frame until the rest arrives', () => {
    const wire = encodeFrame({ type: FrameType.Data, stream: 1, data: Buffer.alloc(1000, 7) });
    const d = new FrameDecoder();
    expect(d.push(wire.subarray(0, 3))).toEqual([]);
    expect(d.push(wire.subarray(3, 500))).toEqual([]);
    expect(d.buffered).toBe(500);
    const [f] = d.push(wire.subarray(500));
    expect(f).toMatchObject({ type: FrameType.Data, stream: 1 });
    expect((f as { data: Buffer }).data.length).toBe(1000);
  });

  it('rejects an oversize frame from its header, before buffering the payload', () => {
    const header = Buffer.alloc(5);
    header.writeUInt32BE(MAX_FRAME + 1, 0);
    header[4] = FrameType.Data;
    const d = new FrameDecoder();
    expect(() => d.push(header)).toThrow(ProtocolError);
    expect(() => new FrameDecoder().push(header)).toThrow(/outside 1\.\.1048576/);
    const zero = Buffer.alloc(4);
    expect(() => new FrameDecoder().push(zero)).toThrow(/frame length 0/);
  });

  it('refuses to encode a frame over the limit', () => {
    expect(() => encodeFrame({ type: FrameType.Data, stream: 1, data: Buffer.alloc(MAX_FRAME) })).toThrow(
      /exceeds the 1048576-byte limit/,
    );
  });

  it('rejects unknown types, bad streams, malformed control frames and bad JSON', () => {
    const raw = (type: number, payload: Buffer): Buffer => {
      const h = Buffer.alloc(5);
      h.writeUInt32BE(payload.length + 1, 0);
      h[4] = type;
      return Buffer.concat([h, payload]);
    };
    expect(() => new FrameDecoder().push(raw(99, Buffer.alloc(0)))).toThrow(/unknown frame type 99/);
    expect(() => new FrameDecoder().push(raw(FrameType.Data, Buffer.of(3, 1)))).toThrow(/valid stream/);
    expect(() => new FrameDecoder().push(raw(FrameType.Window, Buffer.of(1, 0)))).toThrow(/WINDOW/);
    expect(() => new FrameDecoder().push(raw(FrameType.Hello, Buffer.from('{nope')))).toThrow(/invalid JSON/);
    expect(() => new FrameDecoder().push(raw(FrameType.Hello, Buffer.from('[1]')))).toThrow(/JSON object/);
  });

  it('refuses a hello of another protocol before any proof', () => {
    const nonce = 'a'.repeat(64);
    expect(() =>
      checkHelloProtocol({ protocol: PROTOCOL_VERSION, version: '0.2.0', nonce }, '0.1.0'),
    ).not.toThrow();
    expect(() =>
      checkHelloProtocol({ protocol: PROTOCOL_VERSION - 1, version: '0.1.0', nonce }, '0.1.0'),
    ).toThrow(/version mismatch: client is sshmux 0.1.0 \(protocol 4\).*daemon is sshmux 0.1.0/);
  });

  it('lets the client refuse a daemon of another version', () => {
    expect(() =>
      checkWelcome({ protocol: PROTOCOL_VERSION, version: '0.1.0', pid: 1 }, '0.1.0'),
    ).not.toThrow();
    expect(() => checkWelcome({ protocol: PROTOCOL_VERSION, version: '0.0.9', pid: 7 }, '0.1.0')).toThrow(
      /daemon \(pid 7\) is sshmux 0.0.9/,
    );
  });
});
