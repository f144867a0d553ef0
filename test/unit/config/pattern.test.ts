import { describe, expect, it } from 'vitest';
import { matchHostPatterns, matchPattern, matchPatternList } from '../../../src/config/pattern.js';

describe('patterns (match.c)', () => {
  it('`*` matches any run and `?` exactly one character', () => {
    expect(matchPattern('web1.example', '*.example')).toBe(true);
    expect(matchPattern('node1', 'node?')).toBe(true);
    expect(matchPattern('node', 'node?')).toBe(false);
    expect(matchPattern('node12', 'node?')).toBe(false);
    expect(matchPattern('abc', 'a*b*c*')).toBe(true);
    expect(matchPattern('ABC', 'abc')).toBe(false);
  });

  it('a matching negation vetoes a list', () => {
    expect(matchPatternList('bastion.example', '*.example,!bastion.example')).toBe(-1);
    expect(matchPatternList('app.example', '*.example,!bastion.example')).toBe(1);
    expect(matchPatternList('other', '*.example')).toBe(0);
    expect(matchPatternList('APP.Example', '*.example', true)).toBe(1);
  });

  it('Host arguments are single patterns: commas are literal', () => {
    expect(matchHostPatterns('a', ['a,b'])).toBe(false);
    expect(matchHostPatterns('a,b', ['a,b'])).toBe(true);
    expect(matchHostPatterns('foo', ['!foo'])).toBe(false);
    expect(matchHostPatterns('bar', ['!foo'])).toBe(false);
    expect(matchHostPatterns('bar', ['!foo', '*'])).toBe(true);
  });
});
