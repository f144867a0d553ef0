import { createRequire } from 'node:module';
import type { Algorithms } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';

const require = createRequire(import.meta.url);

interface Ssh2Constants {
  SUPPORTED_KEX: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
  SUPPORTED_CIPHER: string[];
  SUPPORTED_MAC: string[];
  DEFAULT_KEX: string[];
  DEFAULT_SERVER_HOST_KEY: string[];
  DEFAULT_CIPHER: string[];
  DEFAULT_MAC: string[];
}

// ssh2 does not re-export these lists from its entry point; they are stable since 1.0.
const constants = require('ssh2/lib/protocol/constants') as Ssh2Constants;

/** What ssh2 can speak, by OpenSSH algorithm name. */
export const SUPPORTED_ALGORITHMS = {
  kex: constants.SUPPORTED_KEX,
  serverHostKey: constants.SUPPORTED_SERVER_HOST_KEY,
  cipher: constants.SUPPORTED_CIPHER,
  hmac: constants.SUPPORTED_MAC,
} as const;

/** ssh2's defaults, the starting point for OpenSSH-style `+`/`-`/`^` modifiers. */
export const DEFAULT_ALGORITHMS = {
  kex: constants.DEFAULT_KEX,
  serverHostKey: constants.DEFAULT_SERVER_HOST_KEY,
  cipher: constants.DEFAULT_CIPHER,
  hmac: constants.DEFAULT_MAC,
} as const;

/** Whether ssh2's native crypto binding (fast AES-GCM / ChaCha20-Poly1305) is loaded. */
export function nativeCryptoLoaded(): boolean {
  try {
    return Boolean((require('ssh2/lib/protocol/crypto') as { bindingAvailable?: boolean }).bindingAvailable);
  } catch {
    return false;
  }
}

/** Map a HostConfig's algorithm lists onto ssh2's, keeping only names ssh2 supports, in order. */
export function algorithmsFor(host: HostConfig): Algorithms {
  const pick = (wanted: readonly string[], supported: readonly string[]): string[] | undefined => {
    if (wanted.length === 0) return undefined;
    const list = wanted.filter((a) => supported.includes(a));
    return list.length > 0 ? list : undefined;
  };
  const out: Algorithms = {};
  const kex = pick(host.kexAlgorithms, SUPPORTED_ALGORITHMS.kex);
  const hostKey = pick(host.hostKeyAlgorithms, SUPPORTED_ALGORITHMS.serverHostKey);
  const cipher = pick(host.ciphers, SUPPORTED_ALGORITHMS.cipher);
  const hmac = pick(host.macs, SUPPORTED_ALGORITHMS.hmac);
  if (kex) out.kex = kex as Algorithms['kex'];
  if (hostKey) out.serverHostKey = hostKey as Algorithms['serverHostKey'];
  if (cipher) out.cipher = cipher as Algorithms['cipher'];
  if (hmac) out.hmac = hmac as Algorithms['hmac'];
  out.compress = host.compression
    ? ['zlib@openssh.com', 'zlib', 'none']
    : ['none', 'zlib@openssh.com', 'zlib'];
  return out;
}
