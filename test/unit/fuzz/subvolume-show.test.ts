import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSubvolumeBlocks } from '../../../src/btrfs/inspect.js';
import { parseDuTotal, parseSubvolumeShow } from '../../../src/btrfs/subvolume-show.js';
import { classified } from './classified.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/btrfs');
const shows = readdirSync(FIXTURES)
  .filter((f) => f.startsWith('show-'))
  .map((f) => readFileSync(path.join(FIXTURES, f), 'utf8'));

/** A real `show` output with lines dropped, duplicated, truncated or replaced by junk. */
const mutatedShow = fc
  .tuple(
    fc.constantFrom(...shows),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('drop', 'dup', 'cut', 'junk', 'huge'),
        fc.string({ unit: 'binary', maxLength: 40 }),
      ),
      { maxLength: 8 },
    ),
  )
  .map(([text, edits]) => {
    const lines = text.split('\n');
    for (const [at, op, junk] of edits) {
      const i = at % Math.max(lines.length, 1);
      const l = lines[i] ?? '';
      if (op === 'drop') lines.splice(i, 1);
      else if (op === 'dup') lines.splice(i, 0, l);
      else if (op === 'cut') lines[i] = l.slice(0, at % (l.length + 1));
      else if (op === 'junk') lines[i] = `\t${junk}`;
      else lines[i] = `${l}${'9'.repeat(5_000)}`;
    }
    return lines.join('\n');
  });

const keyLines = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'UUID',
        'Parent UUID',
        'Received UUID',
        'Flags',
        'Generation',
        'Gen at creation',
        'Subvolume ID',
        'Name',
        'uuid',
      ),
      fc.oneof(
        fc.constantFrom('-', '', 'readonly', '12', '-1', '1e400', 'NaN', '99999999999999999999'),
        fc.uuid(),
        fc.string({ maxLength: 20 }),
      ),
    ),
    { maxLength: 12 },
  )
  .map((kv) => `some/path\n${kv.map(([k, v]) => `\t${k}:\t${v}`).join('\n')}\n`);

describe('btrfs subvolume show parser on hostile output', () => {
  it('returns a SubvolumeInfo or throws a classified remote error, never a TypeError', () => {
    fc.assert(
      fc.property(fc.oneof(mutatedShow, keyLines, fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        const r = classified('parseSubvolumeShow', () => parseSubvolumeShow(text, '/mnt/x/snap'));
        if (!r.ok) {
          expect(r.error).toMatchObject({ kind: 'remote' });
          // Bounded: a hostile `show` cannot make an arbitrarily large error message.
          expect(r.error.message.length).toBeLessThan(2_000);
          return;
        }
        expect(r.value.uuid).not.toBe('');
        expect(Number.isSafeInteger(r.value.generation)).toBe(true);
        expect(Number.isSafeInteger(r.value.cgen)).toBe(true);
        expect(Number.isSafeInteger(r.value.id)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('the listing-block parser classifies every failure too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(mutatedShow, keyLines), { maxLength: 4 }),
        fc.boolean(),
        (blocks, failOne) => {
          const text = blocks
            .map((b, i) => `@@sshmux-subvol /d/s${i}\n${failOne && i === 0 ? '@@sshmux-show-failed\n' : b}`)
            .join('');
          classified('parseSubvolumeBlocks', () => parseSubvolumeBlocks(text));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('parseDuTotal returns a safe integer or null for any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = classified('parseDuTotal', () => parseDuTotal(text));
        expect(r.ok).toBe(true);
        if (r.ok && r.value !== null) expect(Number.isSafeInteger(r.value)).toBe(true);
      }),
    );
  });
});
