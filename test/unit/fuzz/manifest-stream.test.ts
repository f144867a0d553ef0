import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RemoteScanParser } from '../../../src/manifest/remote-scan.js';
import type { TreeScan } from '../../../src/manifest/tree-scan.js';
import { chunked, classified } from './classified.js';

/** A path as find's %P prints it: any bytes but NUL, never empty. */
const rawPath = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('/', ' ', '\n', '\\', '-', '.', 'F', 'D', 'L', 'X', '*'),
      fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }).filter((c) => c !== '\0'),
    ),
    minLength: 1,
    maxLength: 24,
  })
  .filter((p) => !p.includes('\0'));
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** One well-formed record sequence of the remote scan script. */
const record = fc.oneof(
  fc
    .tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 0o7777 }), rawPath, hex64)
    .map(([size, mtime, mode, p, h]) => [`F${size} ${mtime}.5 ${mode.toString(8)} ${p}`, `${h}  ./${p}`]),
  fc.tuple(fc.integer({ min: 0, max: 0o7777 }), rawPath).map(([mode, p]) => [`D${mode.toString(8)} ${p}`]),
  fc.tuple(rawPath, rawPath).map(([p, t]) => [`L${p}`, t]),
  rawPath.map((p) => [`X${p}`]),
);
const stream = fc
  .array(record, { maxLength: 20 })
  .map((rs) => Buffer.from(`${rs.flat().join('\0')}${rs.length ? '\0' : ''}`, 'latin1'));

function parse(chunks: readonly Buffer[]): TreeScan {
  const p = new RemoteScanParser();
  for (const c of chunks) p.push(c);
  return p.end({ hashed: true, stderr: '' });
}

describe('remote manifest record stream on hostile output', () => {
  it('gives the same scan however the stream is chunked', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (buf, cuts) => {
        const whole = classified('RemoteScanParser', () => parse([buf]));
        const pieces = classified('RemoteScanParser', () => parse(chunked(buf, cuts)));
        expect(pieces).toEqual(whole);
      }),
      { numRuns: 1_000 },
    );
  });

  it('any bytes either parse or fail with a classified remote error', () => {
    const mutated = fc
      .tuple(stream, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }))
      .map(([buf, edits]) => {
        const b = Buffer.from(buf);
        for (const [at, byte] of edits) if (b.length > 0) b[at % b.length] = byte;
        return b;
      });
    fc.assert(
      fc.property(
        fc.oneof(
          mutated,
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        (buf, cuts) => {
          const r = classified('RemoteScanParser', () => parse(chunked(buf, cuts)));
          if (!r.ok) expect(r.error).toMatchObject({ kind: 'remote' });
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('a record that never ends is refused once it exceeds any legal record, not buffered without bound', () => {
    const p = new RemoteScanParser();
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let refused: unknown;
    const before = process.memoryUsage().arrayBuffers;
    try {
      for (let i = 0; i < 1024; i++) p.push(chunk); // 64 MiB without a NUL
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_MANIFEST_RECORD' });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
  });
});
