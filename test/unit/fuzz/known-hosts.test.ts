import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { matchPatternList } from '../../../src/config/pattern.js';
import { hostFieldMatches, parseKnownHosts } from '../../../src/security/known-hosts.js';
import { readKnownHostsFiles } from '../../../src/security/known-hosts-file.js';
import { classified, classifiedAsync } from './classified.js';

const field = fc.oneof(
  fc.constantFrom('@revoked', '@cert-authority', '@other', '#', '|1|', '|1|abc|def', '*', '?', '!', ','),
  fc.constantFrom('[127.0.0.1]:2222', 'host', '*.example.com', '!bad', 'ssh-ed25519', 'ssh-rsa'),
  fc.base64String({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const line = fc
  .tuple(fc.array(field, { maxLength: 6 }), fc.constantFrom(' ', '\t', '  ', ' \t'))
  .map(([fields, sep]) => fields.join(sep));
const text = fc.array(line, { maxLength: 30 }).map((lines) => lines.join('\n'));

describe('known_hosts parser on hostile text', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-fuzz-kh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never throws: malformed lines are skipped, kept entries are well-formed and point at their line', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary', maxLength: 400 })), (t) => {
        const r = classified('parseKnownHosts', () => parseKnownHosts(t, 'kh'));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const lines = t.split('\n');
        for (const e of r.value) {
          expect(e.keyBlob.length).toBeGreaterThan(0);
          expect(e.hosts).not.toBe('');
          expect(lines[e.line - 1]).toContain(e.keyType);
          expect(['none', 'revoked', 'cert-authority']).toContain(e.marker);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('host matching never throws on any pattern list or hashed field', () => {
    fc.assert(
      fc.property(field, fc.string({ maxLength: 30 }), (pattern, name) => {
        expect(classified('hostFieldMatches', () => hostFieldMatches(pattern, name)).ok).toBe(true);
        const m = classified('matchPatternList', () => matchPatternList(name, pattern));
        expect(m.ok && [1, 0, -1].includes(m.value)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it('readKnownHostsFiles reads any bytes from disk without an unclassified error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_000 }), async (bytes) => {
        const file = path.join(dir, 'known_hosts');
        writeFileSync(file, bytes);
        const r = await classifiedAsync('readKnownHostsFiles', () =>
          readKnownHostsFiles([file, path.join(dir, 'missing')]),
        );
        expect(r.ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
