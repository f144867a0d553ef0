import { describe, expect, it } from 'vitest';
import { remoteOpenAllowed, remoteOpenPolicy } from '../../../src/forward/remote-dynamic.js';

describe('PermitRemoteOpen (ssh.c ssh_init_forward_permissions, channels.c open_match)', () => {
  it('any alone (or nothing) permits everything; none alone nothing', () => {
    expect(remoteOpenPolicy(undefined)).toBe('any');
    expect(remoteOpenPolicy(['any'])).toBe('any');
    expect(remoteOpenPolicy(['none'])).toBe('none');
    expect(remoteOpenAllowed('any', 'x', 1)).toBe(true);
    expect(remoteOpenAllowed('none', 'x', 1)).toBe(false);
  });

  it('host:port pairs as -G prints them (one line), * for any host or port, [v6] bracketed', () => {
    const p = remoteOpenPolicy(['db:5432 *:80 [::1]:* web:*']);
    expect(p).toEqual([
      { host: 'db', port: 5432 },
      { host: '*', port: 80 },
      { host: '::1', port: '*' },
      { host: 'web', port: '*' },
    ]);
    expect(remoteOpenAllowed(p, 'db', 5432)).toBe(true);
    expect(remoteOpenAllowed(p, 'db', 5433)).toBe(false);
    expect(remoteOpenAllowed(p, 'anything', 80)).toBe(true);
    expect(remoteOpenAllowed(p, '::1', 22)).toBe(true);
    expect(remoteOpenAllowed(p, 'web', 1)).toBe(true);
    // open_match compares the host with strcmp: no case folding, no patterns but a lone *.
    expect(remoteOpenAllowed(p, 'DB', 5432)).toBe(false);
    expect(remoteOpenAllowed(p, 'db.example', 5432)).toBe(false);
  });

  it('a pair without a host or with a bad port is refused, as ssh refuses it', () => {
    expect(() => remoteOpenPolicy([':80'])).toThrow(/missing host/);
    expect(() => remoteOpenPolicy(['db:0'])).toThrow(/bad port number/);
    expect(() => remoteOpenPolicy(['db:x'])).toThrow(/bad port number/);
  });
});
