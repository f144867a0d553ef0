import { describe, expect, it } from 'vitest';
import { parseRemotePath } from '../../../src/config/remote-path.js';
import { ConfigError } from '../../../src/errors.js';

describe('parseRemotePath', () => {
  it.each([
    ['host:/srv/data', { dest: 'host', path: '/srv/data' }],
    ['user@host:dir', { dest: 'user@host', path: 'dir' }],
    ['alias:', { dest: 'alias', path: '.' }],
    ['[::1]:/x', { dest: '::1', path: '/x' }],
    ['user@[fe80::1]:/x:y', { dest: 'user@[fe80::1]', path: '/x:y' }],
    ['host:/path with spaces/and:colon', { dest: 'host', path: '/path with spaces/and:colon' }],
    ['ssh://u@h:2222/srv', { dest: 'ssh://u@h:2222', path: '/srv' }],
    ['ssh://h', { dest: 'ssh://h', path: '.' }],
    // Regression (found by fuzzing): brackets in the path are data, not an IPv6 host.
    ['a:@[', { dest: 'a', path: '@[' }],
    ['host:/x/[y]', { dest: 'host', path: '/x/[y]' }],
  ])('%s', (spec, expected) => {
    expect(parseRemotePath(spec)).toEqual(expected);
  });

  it.each(['/local/path', './rel:x', 'nocolon', ':/x', '', '[::1/x'])(
    'rejects %j with a ConfigError',
    (spec) => {
      expect(() => parseRemotePath(spec)).toThrow(ConfigError);
    },
  );
});

describe('parseRemotePath regressions', () => {
  it('refuses empty brackets as a host (`[]::1`, found by the fuzz test)', () => {
    expect(() => parseRemotePath('[]::1')).toThrow(ConfigError);
    expect(() => parseRemotePath('u@[]:x')).toThrow(ConfigError);
    expect(parseRemotePath('[::1]:x')).toEqual({ dest: '::1', path: 'x' });
  });
});
