import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidHostname, parseDestination } from '../../../src/config/destination.js';
import { parseRemotePath } from '../../../src/config/remote-path.js';
import { classified } from './classified.js';

/** Strings biased towards the characters these parsers split on, plus shell metacharacters. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '@',
      ':',
      '/',
      '[',
      ']',
      '-',
      '%',
      ' ',
      '\n',
      '\0',
      ';',
      '$',
      '`',
      "'",
      '"',
      '*',
      '~',
      '\\',
    ),
    fc.constantFrom('ssh://', 'user', 'host', '::1', '22', '65536', '0'),
    fc.string({ unit: 'grapheme', maxLength: 2 }),
  ),
  maxLength: 40,
});

describe('destination parsers on hostile strings', () => {
  it('parseDestination returns a destination or throws a ConfigError, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 60 })), (spec) => {
        const r = classified('parseDestination', () => parseDestination(spec));
        if (!r.ok) {
          expect(r.error).toMatchObject({ kind: 'config' });
          return;
        }
        // Whatever it accepted: a host that cannot start an option and holds no shell or path separators.
        expect(r.value.host).not.toBe('');
        expect(r.value.host.startsWith('-')).toBe(false);
        if (!spec.startsWith('ssh://')) expect(isValidHostname(r.value.host)).toBe(true);
        if (r.value.port !== undefined) expect(r.value.port).toBeGreaterThanOrEqual(1);
        if (r.value.port !== undefined) expect(r.value.port).toBeLessThanOrEqual(65535);
      }),
      { numRuns: 3_000 },
    );
  });

  it('parseDestination never accepts a destination that starts with `-` (it would be an ssh option)', () => {
    fc.assert(
      fc.property(hostile, (rest) => {
        expect(classified('parseDestination', () => parseDestination(`-${rest}`)).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('parseDestination splits user@host at the last @', () => {
    const part = fc.stringMatching(/^[a-z][a-z0-9.-]{0,15}$/);
    fc.assert(
      fc.property(part, part, part, (u1, u2, h) => {
        expect(parseDestination(`${u1}@${u2}@${h}`)).toEqual({
          user: `${u1}@${u2}`,
          host: h,
          port: undefined,
        });
      }),
    );
  });

  it('parseRemotePath returns dest and path or throws a ConfigError; the path is kept byte for byte', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ unit: 'binary', maxLength: 60 })), (spec) => {
        const r = classified('parseRemotePath', () => parseRemotePath(spec));
        if (!r.ok) {
          expect(r.error).toMatchObject({ kind: 'config' });
          return;
        }
        expect(r.value.dest).not.toBe('');
        expect(r.value.path).not.toBe('');
        if (!spec.startsWith('ssh://') && r.value.path !== '.')
          expect(spec.endsWith(`:${r.value.path}`)).toBe(true);
      }),
      { numRuns: 3_000 },
    );
  });

  it('parseRemotePath keeps any path after host: as data, whatever it holds', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/), hostile, (host, p) => {
        const r = parseRemotePath(`${host}:${p}`);
        expect(r).toEqual({ dest: host, path: p === '' ? '.' : p });
      }),
      { numRuns: 1_000 },
    );
  });
});
