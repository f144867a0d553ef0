import { readFile } from 'node:fs/promises';
import type { AnyAuthMethod } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import type { AuthProvider } from '../connection/connection.js';

/** Public-key attempts from each IdentityFile that exists, in order. */
export function createAuthProvider(): AuthProvider {
  return async (host: HostConfig) => {
    const methods: AnyAuthMethod[] = [];
    for (const file of host.identityFiles) {
      let key: Buffer;
      try {
        key = await readFile(file);
      } catch {
        continue;
      }
      methods.push({ type: 'publickey' as const, username: host.user, key });
    }
    return methods;
  };
}
