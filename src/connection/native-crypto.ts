import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Whether ssh2's native crypto binding (fast AES-GCM / ChaCha20-Poly1305) is loaded. Its own
 * module so that `sshmux --version` and the CLI's start-up do not load ssh2's algorithm tables.
 */
export function nativeCryptoLoaded(): boolean {
  try {
    return Boolean((require('ssh2/lib/protocol/crypto') as { bindingAvailable?: boolean }).bindingAvailable);
  } catch {
    return false;
  }
}
