import { describe, expect, it } from 'vitest';
import { lexLine } from '../../../src/config/config-lexer.js';
import { formatConnect, formatListen, parseForward, printedLocal } from '../../../src/config/forward-spec.js';
import { VALUE_PARSERS } from '../../../src/config/keyword-values.js';
import { applyDirective } from '../../../src/config/keywords.js';
import { matchWords } from '../../../src/config/match-criteria.js';
import { OptionStore } from '../../../src/config/option-store.js';
import { validRemoteUser } from '../../../src/config/resolve.js';

// Pure checks of the parsers the live differential suite compares against ssh (they run without ssh).
const apply = (text: string) => applyDirective(new OptionStore(), lexLine(text, 'f', 1)!, true);
const value = (text: string) => {
  const line = lexLine(text, 'f', 1)!;
  return VALUE_PARSERS[line.keyword]!(line);
};

describe('value parsers (readconf.c rules, ssh -G printing)', () => {
  it('normalises RekeyLimit and IPQoS', () => {
    expect(value('RekeyLimit 1K 1h')).toBe('1024 3600');
    expect(value('RekeyLimit 1.5G')).toBe(`${1.5 * 2 ** 30} 0`);
    expect(() => value('RekeyLimit 8')).toThrow('f line 1: RekeyLimit too small');
    expect(value('IPQoS af21')).toBe('af21 af21');
    expect(value('IPQoS cs1 0x10')).toBe('cs1 lowdelay');
    expect(() => value('IPQoS fast')).toThrow('f line 1: Bad IPQoS value: fast');
  });

  it('prints multistate values by their first name', () => {
    expect(value('PubkeyAuthentication yes')).toBe('true');
    expect(value('Tunnel yes')).toBe('point-to-point');
    expect(value('UpdateHostKeys no')).toBe('false');
    expect(() => apply('Compression true')).toThrow('f line 1: unsupported option "true".');
  });

  it('checks numbers, times, escape characters and extra arguments', () => {
    expect(() => value('ConnectionAttempts x')).toThrow('f line 1: integer value invalid.');
    expect(value('ForwardX11Timeout none')).toBeUndefined();
    expect(value('EscapeChar ^A')).toBe('\\^A');
    expect(() => apply('BatchMode yes no')).toThrow(
      'f line 1: keyword batchmode extra arguments at end of line',
    );
  });
});

describe('parseForward (parse_forward) and its printed form', () => {
  it('parses host, port and path forms as ssh does', () => {
    const l = parseForward('8080:localhost:80', false, false)!;
    expect(`${formatListen(l)} ${formatConnect(l)}`).toBe('8080 [localhost]:80');
    const v6 = parseForward('[::1]:8080:[::1]:80', false, false)!;
    expect(`${formatListen(v6)} ${formatConnect(v6)}`).toBe('[::1]:8080 [::1]:80');
    expect(printedLocal(parseForward('8080:/tmp/s', false, false)!)).toEqual({
      dynamic: '8080',
      local: '8080 /tmp/s',
    });
    expect(printedLocal(parseForward('1080', true, false)!)).toEqual({ dynamic: '1080' });
    const r = parseForward('1080', true, true)!;
    expect(`${formatListen(r)} ${formatConnect(r)}`).toBe('1080 [socks]:0');
  });

  it('refuses what parse_forward refuses', () => {
    expect(parseForward('8080', false, false)).toBeUndefined();
    expect(parseForward('0:h:80', false, false)).toBeUndefined();
    expect(parseForward('x', true, false)).toBeUndefined();
  });
});

describe('Match words (strdelim) and remote user names (valid_ruser)', () => {
  it('splits at blanks and one =, keeping quoted words', () => {
    expect(matchWords('host=b user=x')).toEqual(['host', 'b', 'user', 'x']);
    expect(matchWords('exec "test %h = h"  all')).toEqual(['exec', 'test %h = h', 'all']);
    expect(matchWords('host = b')).toEqual(['host', 'b']);
  });

  it('refuses shell metacharacters, a leading dash and a trailing backslash', () => {
    for (const bad of ['a;b', 'a`b', "a'b", 'a"b', 'a|b', 'a(b', 'a{b', '-x', 'a -x', 'a\\']) {
      expect(validRemoteUser(bad), bad).toBe(false);
    }
    for (const ok of ['alice', 'a b', 'a$b', 'a*b', 'a\\b', 'a.b-c_d'])
      expect(validRemoteUser(ok), ok).toBe(true);
  });
});
