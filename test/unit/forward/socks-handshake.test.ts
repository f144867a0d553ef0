import { describe, expect, it } from 'vitest';
import { SocksHandshake, type SocksStep } from '../../../src/forward/socks-handshake.js';

const b = (...parts: (number[] | string)[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

function feed(...chunks: Buffer[]): SocksStep[] {
  const h = new SocksHandshake();
  return chunks.map((c) => h.push(c));
}

/** Every split of `msg` into two chunks gives `more` first and the same final step. */
function everySplit(msg: Buffer): SocksStep[] {
  const out: SocksStep[] = [];
  for (let i = 1; i < msg.length; i++) {
    const h = new SocksHandshake();
    const first = h.push(msg.subarray(0, i));
    expect(first.kind, `split at ${i}`).toBe('more');
    out.push(h.push(msg.subarray(i)));
  }
  return out;
}

const GRANTED4 = [0, 90, 0, 0, 0, 0, 0, 0];

describe('SocksHandshake (ssh -D): SOCKS4', () => {
  it('CONNECT to an IPv4 address, user id skipped, granted at once', () => {
    const [step] = feed(b([4, 1, 0x1f, 0x90, 10, 0, 0, 7], 'alice', [0]));
    expect(step).toEqual({
      kind: 'connect',
      request: { version: 4, protocol: 'SOCKS4', host: '10.0.0.7', port: 8080 },
      reply: Buffer.from(GRANTED4),
      rest: Buffer.alloc(0),
    });
  });

  it('SOCKS4A: 0.0.0.x means a host name follows, resolved by the server', () => {
    const msg = b([4, 1, 0, 80, 0, 0, 0, 1], [0], 'db.internal', [0]);
    const [step] = feed(msg);
    expect(step).toMatchObject({
      kind: 'connect',
      request: { version: 4, protocol: 'SOCKS4A', host: 'db.internal', port: 80 },
    });
    for (const s of everySplit(msg))
      expect(s).toMatchObject({ kind: 'connect', request: { host: 'db.internal' } });
  });

  it('keeps the bytes after the request for the channel', () => {
    const [step] = feed(b([4, 1, 0, 80, 127, 0, 0, 1], [0], 'GET / HTTP/1.0\r\n'));
    expect(step?.kind === 'connect' && step.rest.toString()).toBe('GET / HTTP/1.0\r\n');
  });

  it('refuses BIND and any command but CONNECT', () => {
    expect(feed(b([4, 2, 0, 80, 127, 0, 0, 1], [0]))[0]).toEqual({
      kind: 'refuse',
      why: 'cannot handle SOCKS4 command 0x02',
    });
  });

  it('truncated requests wait; a user id or host name past 1024 bytes is refused', () => {
    expect(feed(b([4, 1, 0, 80, 127, 0, 0]))[0]).toEqual({ kind: 'more' });
    expect(feed(b([4, 1, 0, 80, 127, 0, 0, 1], 'no-nul-yet'))[0]).toEqual({ kind: 'more' });
    expect(feed(b([4, 1, 0, 80, 0, 0, 0, 1], [0], 'half.host'))[0]).toEqual({ kind: 'more' });
    expect(feed(b([4, 1, 0, 80, 127, 0, 0, 1], 'u'.repeat(1024)))[0]).toMatchObject({ kind: 'refuse' });
    expect(feed(b([4, 1, 0, 80, 0, 0, 0, 1], [0], 'h'.repeat(1030)))[0]).toMatchObject({ kind: 'refuse' });
  });
});

describe('SocksHandshake (ssh -D): SOCKS5', () => {
  const hello = [5, 1, 0];

  it('no-auth greeting answered 05 00, then CONNECT by domain name (remote resolution)', () => {
    const h = new SocksHandshake();
    expect(h.push(b(hello))).toEqual({ kind: 'more', reply: Buffer.from([5, 0]) });
    const step = h.push(b([5, 1, 0, 3, 11], 'db.internal', [0x01, 0xbb]));
    expect(step).toEqual({
      kind: 'connect',
      request: { version: 5, protocol: 'SOCKS5', host: 'db.internal', port: 443 },
      reply: Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      rest: Buffer.alloc(0),
    });
  });

  it('greeting and request in one chunk (a client speculating ahead): both replies at once', () => {
    const [step] = feed(b([5, 2, 2, 0], [5, 1, 0, 1, 192, 168, 1, 2, 0, 22], 'SSH-2.0-x\r\n'));
    expect(step).toMatchObject({
      kind: 'connect',
      request: { host: '192.168.1.2', port: 22 },
      reply: Buffer.from([5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    });
    expect(step?.kind === 'connect' && step.rest.toString()).toBe('SSH-2.0-x\r\n');
  });

  it('IPv6 addresses are written as inet_ntop writes them', () => {
    const addr = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const [, step] = feed(b(hello), b([5, 1, 0, 4], addr, [0, 80]));
    expect(step).toMatchObject({ kind: 'connect', request: { host: '2001:db8::1', port: 80 } });
    const [, loop] = feed(
      b(hello),
      b([5, 1, 0, 4], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0, 22]),
    );
    expect(loop).toMatchObject({ request: { host: '::1' } });
  });

  it('every truncation of greeting plus request waits for the rest', () => {
    const msg = b(hello, [5, 1, 0, 3, 4], 'host', [0, 80]);
    for (const s of everySplit(msg))
      expect(s).toMatchObject({ kind: 'connect', request: { host: 'host', port: 80 } });
  });

  it('refuses a client that only offers authentication, BIND/UDP, a bad reserved byte or address type', () => {
    expect(feed(b([5, 1, 2]))[0]).toMatchObject({ kind: 'refuse' });
    expect(feed(b(hello, [5, 2, 0, 1, 1, 2, 3, 4, 0, 80]))[0]).toEqual({
      kind: 'refuse',
      why: 'only SOCKS5 CONNECT is supported',
    });
    expect(feed(b(hello, [5, 3, 0, 1, 1, 2, 3, 4, 0, 80]))[0]).toMatchObject({ kind: 'refuse' });
    expect(feed(b(hello, [5, 1, 1, 1, 1, 2, 3, 4, 0, 80]))[0]).toMatchObject({ kind: 'refuse' });
    expect(feed(b(hello, [5, 1, 0, 9, 1, 2, 3, 4, 0, 80]))[0]).toEqual({
      kind: 'refuse',
      why: 'bad SOCKS5 address type 9',
    });
  });
});

describe('SocksHandshake: other versions', () => {
  it('an unknown version is refused once three bytes arrived, as ssh guesses', () => {
    expect(feed(b([6, 1]))[0]).toEqual({ kind: 'more' });
    expect(feed(b('GET / HTTP/1.1\r\n'))[0]).toEqual({ kind: 'refuse', why: 'unknown SOCKS version 71' });
  });

  it('a finished handshake takes no more bytes (they belong to the channel)', () => {
    const h = new SocksHandshake();
    h.push(b([4, 1, 0, 80, 127, 0, 0, 1], [0]));
    expect(() => h.push(b('x'))).toThrow(/after the handshake/);
  });
});
