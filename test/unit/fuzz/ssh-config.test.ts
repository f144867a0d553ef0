import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SUPPORTED_KEYWORDS } from '../../../src/config/keywords.js';
import { resolveHostConfig } from '../../../src/config/resolve.js';
import { classifiedAsync } from './classified.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-fuzz-config-'));
const configFile = path.join(dir, 'config');
const other = path.join(dir, 'other.conf');

const keyword = fc.oneof(
  fc.constantFrom(...SUPPORTED_KEYWORDS),
  fc.constantFrom(
    'Host',
    'Match',
    'Include',
    'ProxyCommand',
    'LocalForward',
    'SetEnv',
    'SendEnv',
    'Tag',
    'bogus',
  ),
  fc.string({ maxLength: 12 }),
);
const value = fc.oneof(
  fc.constantFrom(
    '*',
    '!*',
    'all',
    'yes',
    'no',
    'ask',
    'none',
    '0',
    '22',
    '65536',
    '-1',
    '1h30m',
    '%h',
    '%%',
    '%',
    '%C',
    '~',
    '$'.concat('{HOME}'),
    '${',
    '"',
    '"a b"',
    '=',
    'a,b,,c',
    '+aes128-ctr',
    '^x',
    '-x',
  ),
  fc.constantFrom(
    'exec "touch /tmp/sshmux-fuzz-pwned"',
    'host h final',
    'canonical all',
    'user x localuser y',
    'originalhost h',
    'localnetwork 10.0.0.0/8',
  ),
  fc.constantFrom(configFile, other, `${dir}/*.conf`, `${dir}/[`, '~/nonexistent/*'),
  fc.constantFrom('h', 'jump1,jump2', 'user@jump:2222', 'ssh://u@j:22', '[::1]:22'),
  fc.string({ maxLength: 20 }),
);
const line = fc
  .tuple(
    fc.constantFrom('', '  ', '\t'),
    keyword,
    fc.constantFrom(' ', '=', ' = ', '\t'),
    fc.array(value, { maxLength: 3 }),
    fc.constantFrom('', ' # c', '\r'),
  )
  .map(([indent, k, sep, vs, tail]) => `${indent}${k}${sep}${vs.join(' ')}${tail}`);
const config = fc
  .array(fc.oneof(line, fc.string({ maxLength: 40 })), { maxLength: 25 })
  .map((ls) => `${ls.join('\n')}\n`);
const destination = fc.oneof(
  fc.constantFrom('h', 'user@h', 'ssh://u@h:2222', 'other', '-oProxyCommand=x', 'a@b@c', '%h'),
  fc.string({ maxLength: 15 }),
);

describe('ssh_config resolution on generated config text', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves to a frozen HostConfig or rejects with a ConfigError; never hangs, never runs Match exec', async () => {
    await fc.assert(
      fc.asyncProperty(config, config, destination, async (main, included, dest) => {
        writeFileSync(configFile, main);
        writeFileSync(other, included);
        const r = await classifiedAsync('resolveHostConfig', () =>
          resolveHostConfig(dest, {
            configFile,
            homeDir: dir,
            localUser: 'me',
            localHostname: 'box',
            uid: 1000,
            env: { HOME: dir },
            platform: 'linux',
          }),
        );
        if (!r.ok) {
          expect(r.error).toMatchObject({ kind: 'config' });
          return;
        }
        expect(Object.isFrozen(r.value)).toBe(true);
        expect(r.value.port).toBeGreaterThanOrEqual(1);
        expect(r.value.port).toBeLessThanOrEqual(65535);
        expect(r.value.hostname).not.toBe('');
      }),
      { numRuns: 400 },
    );
  });
});
