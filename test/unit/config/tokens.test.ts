import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clientTokens,
  expandDollar,
  expandPath,
  expandPercent,
  expandTilde,
  type TokenContext,
} from '../../../src/config/tokens.js';
import { ConfigError } from '../../../src/errors.js';

const ctx: TokenContext = {
  host: 'h.example',
  originalHost: 'h',
  port: 2222,
  user: 'alice',
  localUser: 'me',
  homeDir: '/home/me',
  localHostname: 'box.lan',
  uid: '1000',
  hostKeyAlias: undefined,
};

describe('tokens', () => {
  it('expands every client token', () => {
    const t = clientTokens(ctx);
    expect(expandPercent('%h %n %p %r %u %d %l %L %i %k %%', t, 'x')).toBe(
      'h.example h 2222 alice me /home/me box.lan box 1000 h %',
    );
    expect(t.C).toBe(createHash('sha1').update('box.lanh.example2222alice').digest('hex'));
    expect(clientTokens({ ...ctx, hostKeyAlias: 'ka' }).k).toBe('ka');
  });

  it('rejects unknown and trailing tokens', () => {
    expect(() => expandPercent('%x', { h: 'a' }, 'HostName')).toThrow(
      /^vdollar_percent_expand: unknown key %x\npercent_expand: failed$/,
    );
    expect(() => expandPercent('a%', { h: 'a' }, 'HostName')).toThrow(ConfigError);
  });

  it('expands ~ and dollar-brace variables; an unset variable is an error', () => {
    expect(expandTilde('~/.ssh/x', '/home/me', 'x')).toBe('/home/me/.ssh/x');
    expect(expandTilde('~', '/home/me', 'x')).toBe('/home/me');
    expect(() => expandTilde('~bob/x', '/home/me', 'x')).toThrow(ConfigError);
    expect(expandDollar(`\${A}/s`, { A: '/run' }, 'x')).toBe('/run/s');
    expect(() => expandDollar(`\${NOPE}`, {}, 'ControlPath')).toThrow(/NOPE/);
    expect(expandPath('~/cm-%r@%h:%p', ctx, {}, 'ControlPath')).toBe('/home/me/cm-alice@h.example:2222');
  });

  it('keeps the Windows separator for a Windows home', () => {
    expect(expandTilde('~/.ssh/id_ed25519', 'C:\\Users\\me', 'x')).toBe('C:\\Users\\me\\.ssh/id_ed25519');
  });
});
