import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localManifest } from '../../../src/manifest/manifest.js';
import { rawFromString } from '../../../src/manifest/raw-path.js';
import { sha256sumLine } from '../../../src/manifest/sha256sum-format.js';
import { describePosix } from '../../helpers/posix-only.js';
import { gnuSha256sum, makeLocalTree } from './helpers.js';

const HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('sha256sumLine', () => {
  it('writes plain names as is, with two spaces', () => {
    expect(sha256sumLine(HASH, rawFromString('a b')).toString()).toBe(`${HASH}  a b\n`);
  });

  it('escapes backslash, newline and carriage return and marks the line with a leading backslash', () => {
    expect(sha256sumLine(HASH, 'a\\b\nc\rd').toString('latin1')).toBe(`\\${HASH}  a\\\\b\\nc\\rd\n`);
  });

  it('leaves tabs, quotes and non-UTF-8 bytes raw', () => {
    const line = sha256sumLine(HASH, 't\t"\xe9');
    expect(line.subarray(-5)).toEqual(Buffer.from([0x74, 0x09, 0x22, 0xe9, 0x0a]));
  });

  describePosix('sh and GNU sha256sum')('against GNU sha256sum on a hostile tree', () => {
    let tree: string;
    beforeAll(() => {
      tree = makeLocalTree();
    });
    afterAll(() => rmSync(path.dirname(tree), { recursive: true, force: true }));

    it('produces byte-identical output', async () => {
      const manifest = await localManifest(tree);
      const ours = Buffer.concat(
        [...manifest].flatMap(([p, e]) => (e.type === 'file' ? [sha256sumLine(e.sha256, p)] : [])),
      );
      const reference = gnuSha256sum(tree);
      expect(reference.includes(Buffer.from('\\'))).toBe(true);
      expect(ours.toString('latin1')).toBe(reference.toString('latin1'));
    });
  });
});
