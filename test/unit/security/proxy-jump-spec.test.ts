import { describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { defaultHopResolver, parseHopSpec } from '../../../src/connection/proxy-jump.js';
import { ConfigError } from '../../../src/errors.js';

describe('ProxyJump hop specs', () => {
  it.each([
    ['bastion', { user: undefined, host: 'bastion', port: undefined }],
    ['me@bastion', { user: 'me', host: 'bastion', port: undefined }],
    ['me@bastion:2222', { user: 'me', host: 'bastion', port: 2222 }],
    ['[2001:db8::1]:22', { user: undefined, host: '2001:db8::1', port: 22 }],
    ['ssh://me@bastion:2200', { user: 'me', host: 'bastion', port: 2200 }],
  ])('parses %s', (spec, want) => {
    expect(parseHopSpec(spec)).toEqual(want);
  });

  it('rejects a malformed hop with the value in the message', () => {
    expect(() => parseHopSpec('a@b@c:x')).toThrow(ConfigError);
    expect(() => parseHopSpec('a@b@c:x')).toThrow('`a@b@c:x`');
  });

  it("default resolver: the hop's own address and user, the target's keys and known_hosts policy", async () => {
    const target = {
      ...plainHostConfig({
        host: 'inner',
        user: 'deploy',
        identityFiles: ['/k'],
        userKnownHostsFiles: ['/kh'],
      }),
      strictHostKeyChecking: 'yes' as const,
      batchMode: true,
    };
    const hop = await defaultHopResolver('ops@bastion:2022', target);
    expect(hop).toMatchObject({
      hostname: 'bastion',
      port: 2022,
      user: 'ops',
      identityFiles: ['/k'],
      userKnownHostsFiles: ['/kh'],
      strictHostKeyChecking: 'yes',
      batchMode: true,
      proxyJump: [],
    });
    expect(Object.isFrozen(hop)).toBe(true);
  });
});
