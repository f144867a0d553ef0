import { describe, expect, it } from 'vitest';
import { environmentToSend, hostForDaemon, MAX_PERSIST_SECONDS } from '../../../src/cli/ssh-config.js';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig, poolKeyOf } from '../../../src/config/plain.js';

function withHost(extra: Partial<HostConfig>): HostConfig {
  const h = { ...plainHostConfig({ host: 'h', user: 'u' }), ...extra };
  return Object.freeze({ ...h, poolKey: poolKeyOf(h) });
}

describe('environmentToSend', () => {
  it('sends SendEnv matches minus `-pattern` removals, SetEnv, and GIT_PROTOCOL always', () => {
    const host = withHost({ sendEnv: ['LC_*', 'LANG', '-LC_ALL'], setEnv: { FOO: 'bar' } });
    const env = { LC_CTYPE: 'C.UTF-8', LC_ALL: 'C', LANG: 'en', HOME: '/root', GIT_PROTOCOL: 'version=2' };
    expect(environmentToSend(host, env)).toEqual({
      LC_CTYPE: 'C.UTF-8',
      LANG: 'en',
      GIT_PROTOCOL: 'version=2',
      FOO: 'bar',
    });
    expect(environmentToSend(withHost({}), { HOME: '/root' })).toEqual({});
  });
});

describe('hostForDaemon', () => {
  it("pins the client's agent socket so the daemon never uses its first client's", () => {
    const host = withHost({ identityAgent: undefined });
    const a = hostForDaemon(host, { SSH_AUTH_SOCK: '/run/a.sock' }, 'linux');
    const b = hostForDaemon(host, { SSH_AUTH_SOCK: '/run/b.sock' }, 'linux');
    expect(a.identityAgent).toBe('/run/a.sock');
    expect(b.identityAgent).toBe('/run/b.sock');
    expect(a.poolKey).not.toBe(b.poolKey);
    expect(hostForDaemon(host, {}, 'linux').identityAgent).toBe('none');
    expect(hostForDaemon(host, {}, 'win32').identityAgent).toBe('\\\\.\\pipe\\openssh-ssh-agent');
  });

  it('keeps an explicit IdentityAgent none, and expands $VAR with the client environment', () => {
    const none = withHost({ identityAgent: 'none' });
    expect(hostForDaemon(none, { SSH_AUTH_SOCK: '/x' }, 'linux')).toBe(none);
    const viaVar = withHost({ identityAgent: '$MY_AGENT' });
    expect(hostForDaemon(viaVar, { MY_AGENT: '/m.sock' }, 'linux').identityAgent).toBe('/m.sock');
  });

  it('sends `ControlPersist yes` (Infinity, which JSON cannot carry) as the longest timer', () => {
    const forever = withHost({ identityAgent: 'none', controlPersistSeconds: Number.POSITIVE_INFINITY });
    const wire = hostForDaemon(forever, {}, 'linux');
    expect(wire.controlPersistSeconds).toBe(MAX_PERSIST_SECONDS);
    expect(JSON.parse(JSON.stringify(wire)).controlPersistSeconds).toBe(MAX_PERSIST_SECONDS);
    const ten = withHost({ identityAgent: 'none', controlPersistSeconds: 10 });
    expect(hostForDaemon(ten, {}, 'linux')).toBe(ten);
  });
});
