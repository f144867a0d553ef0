import { describe, expect, it } from 'vitest';
import { hostForDaemon } from '../../../src/cli/ssh-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { ConfigError } from '../../../src/errors.js';
import { hostConfigFrom } from '../../../src/mux/daemon-session.js';

const wire = (v: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('HostConfig over the wire to the daemon', () => {
  const hop = plainHostConfig({ host: 'jump.example', user: 'j', identityFiles: ['/k/jump'] });
  const target = {
    ...plainHostConfig({ host: 'inner.example' }),
    proxyJump: ['jump.example'],
    jumpHosts: [hop],
  };

  it('carries the resolved jump hosts, each checked like the target', () => {
    const got = hostConfigFrom(wire(hostForDaemon(target, { SSH_AUTH_SOCK: '/tmp/agent.sock' }, 'linux')));
    expect(got.jumpHosts?.map((h) => [h.hostname, h.user, h.identityFiles])).toEqual([
      ['jump.example', 'j', ['/k/jump']],
    ]);
    // The hop authenticates in the daemon with this client's agent, as the target does.
    expect(got.jumpHosts?.[0]?.identityAgent).toBe('/tmp/agent.sock');
    expect(() => hostConfigFrom({ ...wire(target), jumpHosts: [{ hostname: 'x' }] })).toThrow(ConfigError);
  });

  it('refuses a ProxyCommand, at any depth: it runs in the invoking process', () => {
    expect(() => hostConfigFrom(wire({ ...target, proxyCommand: 'nc %h %p' }))).toThrow(/ProxyCommand/);
    const hopWithCommand = { ...hop, proxyCommand: 'nc %h %p' };
    expect(() => hostConfigFrom(wire({ ...target, jumpHosts: [hopWithCommand] }))).toThrow(/ProxyCommand/);
    const khc = { command: '/bin/khc %H', tokens: {} };
    expect(() => hostConfigFrom(wire({ ...target, knownHostsCommand: khc }))).toThrow(/KnownHostsCommand/);
  });
});
