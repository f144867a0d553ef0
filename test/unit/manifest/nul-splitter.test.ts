import { describe, expect, it } from 'vitest';
import { NulSplitter } from '../../../src/manifest/nul-splitter.js';
import { RemoteScanParser } from '../../../src/manifest/remote-scan.js';

function splitAll(chunks: Buffer[]): { fields: string[]; rest: string | undefined } {
  const s = new NulSplitter();
  const fields = chunks.flatMap((c) => s.push(c));
  return { fields, rest: s.end() };
}

/** Every way to cut `data` into two or three chunks. */
function* cuts(data: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= data.length; i++) {
    yield [data.subarray(0, i), data.subarray(i)];
    for (let j = i; j <= data.length; j += 3)
      yield [data.subarray(0, i), data.subarray(i, j), data.subarray(j)];
  }
}

describe('NulSplitter', () => {
  const data = Buffer.concat([
    Buffer.from('a\0\0new\nline\0'),
    Buffer.from([0xe9, 0xff, 0x00]),
    Buffer.from('last\0'),
  ]);
  const expected = ['a', '', 'new\nline', '\xe9\xff', 'last'];

  it('splits at NULs whatever the chunk boundaries', () => {
    for (const chunks of cuts(data)) expect(splitAll(chunks)).toEqual({ fields: expected, rest: undefined });
  });

  it('splits byte by byte', () => {
    const bytes = [...data].map((b) => Buffer.from([b]));
    expect(splitAll(bytes).fields).toEqual(expected);
  });

  it('reports a trailing field without its NUL', () => {
    expect(splitAll([Buffer.from('a\0b'), Buffer.from('c')])).toEqual({ fields: ['a'], rest: 'bc' });
  });
});

describe('RemoteScanParser', () => {
  const hash = (c: string) => c.repeat(64);
  const stream = Buffer.concat([
    Buffer.from('D755 sub dir\0'),
    Buffer.from('F6 1700000000.5000000000 644 sub dir/-x\0'),
    Buffer.from('Lln\0target\nwith newline\0'),
    Buffer.from('F0 1700000001.0000000000 600 e\xe9\0', 'latin1'),
    Buffer.from('F7 1700000002.0 000 locked\0'),
    Buffer.from('Xclosed\0'),
    Buffer.from(`${hash('a')}  ./sub dir/-x\0`),
    Buffer.from(`${hash('b')}  ./e\xe9\0`, 'latin1'),
  ]);
  const stderr = 'sha256sum: ./locked: Permission denied\n';

  it('parses every record kind at any chunk boundary', () => {
    for (const chunks of cuts(stream)) {
      const p = new RemoteScanParser();
      for (const c of chunks) p.push(c);
      const scan = p.end({ hashed: true, stderr });
      expect(Object.fromEntries(scan.files)).toEqual({
        'sub dir/-x': { size: 6, mtime: 1700000000, mode: 0o644, sha256: hash('a') },
        'e\xe9': { size: 0, mtime: 1700000001, mode: 0o600, sha256: hash('b') },
      });
      expect(Object.fromEntries(scan.symlinks)).toEqual({ ln: 'target\nwith newline' });
      expect(Object.fromEntries(scan.dirs)).toEqual({ 'sub dir': 0o755 });
      expect(Object.fromEntries(scan.errors)).toEqual({
        locked: 'Permission denied',
        closed: 'directory not readable: its contents are unknown',
      });
    }
  });

  it('keeps listing data without hashes when not hashing', () => {
    const p = new RemoteScanParser();
    p.push(Buffer.from('F3 5 644 a\0'));
    expect(p.end({ hashed: false, stderr: '' }).files.get('a')).toEqual({ size: 3, mtime: 5, mode: 0o644 });
  });

  it('rejects a stream cut inside a record', () => {
    const p = new RemoteScanParser();
    p.push(Buffer.from('Llink\0'));
    expect(() => p.end({ hashed: true, stderr: '' })).toThrow(/middle of a record/);
  });

  it('rejects garbage', () => {
    expect(() => new RemoteScanParser().push(Buffer.from('garbage\0'))).toThrow(/Unexpected record/);
  });
});
