import { describe, expect, it } from 'vitest';
import { DEFAULT_ALGORITHMS as OPENSSH_DEFAULTS } from '../../../src/config/algorithm-lists.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { algorithmsFor, preferKnownKeyTypes } from '../../../src/connection/algorithms.js';

const host = plainHostConfig({ host: 'h', user: 'u' });
const hostKeys = (...args: Parameters<typeof algorithmsFor>): string[] | undefined =>
  algorithmsFor(...args).serverHostKey as string[] | undefined;

describe('host-key algorithm order from known_hosts (OpenSSH order_hostkeyalgs)', () => {
  it('puts the algorithms of known key types first and keeps the rest in order', () => {
    const list = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
    expect(preferKnownKeyTypes(list, new Set(['ssh-rsa']))).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
    ]);
    expect(preferKnownKeyTypes(list, new Set(['ecdsa-sha2-nistp256', 'ssh-ed25519']))).toEqual(list);
    expect(preferKnownKeyTypes(list, new Set())).toEqual(list);
  });

  it('reorders the default list (empty, or OpenSSH default from ssh_config) but not an explicit one', () => {
    const known = new Set(['ssh-rsa']);
    expect(hostKeys(host, known)?.[0]).toBe('rsa-sha2-512');
    const fromConfig = { ...host, hostKeyAlgorithms: [...OPENSSH_DEFAULTS.hostkeyalgorithms] };
    expect(hostKeys(fromConfig, known)?.[0]).toBe('rsa-sha2-512');
    const explicit = { ...host, hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-256'] };
    expect(hostKeys(explicit, known)).toEqual(['ssh-ed25519', 'rsa-sha2-256']);
    expect(hostKeys(host)).toBeUndefined();
  });
});
