import type { HostConfig } from '../config/host-config.js';
import type { HostKeyVerifier } from '../connection/connection.js';
import { HostKeyError } from '../errors.js';

/**
 * Minimal policy: accept only under an explicit `StrictHostKeyChecking no`, refuse everything
 * else. The known_hosts verifier replaces this; it exists so nothing ever connects without
 * a host-key decision.
 */
export function createHostKeyVerifier(): HostKeyVerifier {
  return async (_key: Buffer, host: HostConfig) => {
    if (host.strictHostKeyChecking === 'no') return;
    throw new HostKeyError(
      `Host key for ${host.hostname}:${host.port} cannot be verified; pass -o StrictHostKeyChecking=no to accept it`,
      { destination: `${host.user}@${host.hostname}:${host.port}` },
    );
  };
}
