import type { HostConfig, PlainHostOptions } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { SshPool, type SshPoolOptions } from '../../src/index.js';
import type { StartedSshd } from '../helpers/sshd.js';

/** The container's `backup` (or another) user with the per-run key, strict host keys. */
export function hostOf(
  sshd: StartedSshd,
  user = 'backup',
  extra: Partial<PlainHostOptions> = {},
): HostConfig {
  return plainHostConfig({
    host: sshd.host,
    port: sshd.port,
    user,
    identityFiles: [sshd.keyPath],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [sshd.knownHostsFile],
    ...extra,
  });
}

/** A pool that trusts exactly the container's host keys. */
export function poolFor(sshd: StartedSshd, options: SshPoolOptions = {}): SshPool {
  return new SshPool({
    hostKeyVerifier: async (key) => {
      if (!sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')))
        throw new Error('unknown host key');
    },
    ...options,
  });
}
