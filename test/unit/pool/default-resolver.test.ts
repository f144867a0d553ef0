import { describe, expect, it } from 'vitest';
import { SshPool } from '../../../src/index.js';
import { splitDestination } from '../../../src/pool/default-resolver.js';
import { fakeFactory, until } from './fake-connection.js';

describe('splitDestination', () => {
  it.each([
    ['host', { target: 'host', port: undefined }],
    ['user@host', { target: 'user@host', port: undefined }],
    ['user@host:2222', { target: 'user@host', port: 2222 }],
    ['a@b@host:22', { target: 'a@b@host', port: 22 }],
    ['[::1]:2200', { target: '::1', port: 2200 }],
    ['u@[fe80::1]:22', { target: 'u@fe80::1', port: 22 }],
    ['::1', { target: '::1', port: undefined }],
    ['ssh://u@h:2022', { target: 'ssh://u@h:2022', port: undefined }],
  ])('%s', (dest, expected) => {
    expect(splitDestination(dest)).toEqual(expected);
  });

  it('rejects an out-of-range port and an empty destination', () => {
    expect(() => splitDestination('h:70000')).toThrow('Bad port `70000`');
    expect(() => splitDestination('')).toThrow('Expected a destination');
  });
});

describe('SshPool destination resolution', () => {
  it('resolves strings through ssh_config by default, with `:port` as -p, once per string', async () => {
    const { factory, made } = fakeFactory({ maxSessions: 10 });
    const pool = new SshPool({ connectionFactory: factory });
    const run = pool.exec('alice@sshmux-test.invalid:2222', 'true');
    await until(() => made[0]?.channels.length === 1, 'channel');
    expect(made[0]!.host).toMatchObject({ user: 'alice', hostname: 'sshmux-test.invalid', port: 2222 });
    made[0]!.channels[0]!.finish(0);
    await run;
    pool.destroy();
  });

  it('uses an injected resolver and shares connections between destinations with the same poolKey', async () => {
    const { factory, made } = fakeFactory({ maxSessions: 10 });
    const { plainHostConfig } = await import('../../../src/config/plain.js');
    const seen: string[] = [];
    const pool = new SshPool({
      connectionFactory: factory,
      resolve: (dest) => {
        seen.push(dest);
        return plainHostConfig({ host: 'same.example', user: 'u' });
      },
    });
    const a = pool.exec('alias-a', 'true');
    const b = pool.exec('alias-b', 'true');
    await until(() => (made[0]?.channels.length ?? 0) === 2, 'two channels');
    for (const ch of made[0]!.channels) ch.finish(0);
    await Promise.all([a, b]);
    expect(seen).toEqual(['alias-a', 'alias-b']);
    expect(made).toHaveLength(1);
    pool.destroy();
  });
});
