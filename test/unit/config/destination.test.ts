import { describe, expect, it } from 'vitest';
import { parseDestination } from '../../../src/config/destination.js';
import { ConfigError } from '../../../src/errors.js';

describe('parseDestination', () => {
  it('takes the forms ssh takes', () => {
    expect(parseDestination('h')).toEqual({ host: 'h', user: undefined, port: undefined });
    expect(parseDestination('a@b@h')).toEqual({ host: 'h', user: 'a@b', port: undefined });
    expect(parseDestination('h:22')).toEqual({ host: 'h:22', user: undefined, port: undefined });
    expect(parseDestination('u@[::1]')).toEqual({ host: '[::1]', user: 'u', port: undefined });
    expect(parseDestination('ssh://u@h:2222')).toEqual({ host: 'h', user: 'u', port: 2222 });
    expect(parseDestination('ssh://%61b;fp=x@h/')).toEqual({ host: 'h', user: 'ab', port: undefined });
    expect(parseDestination('ssh://h:')).toEqual({ host: 'h', user: undefined, port: undefined });
  });

  it.each([
    '',
    '@h',
    'u@',
    '-oProxyCommand=x',
    'a b',
    'h;rm',
    'ssh://',
    'ssh://h/path',
    'ssh://h:0',
    'ssh://h:x',
    'ssh://[::1]:22',
    'ssh://u@:7',
  ])('rejects %j', (spec) => {
    expect(() => parseDestination(spec)).toThrow(ConfigError);
  });
});
