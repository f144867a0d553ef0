import { createRequire } from 'node:module';
import type { Algorithms } from 'ssh2';
import { DEFAULT_ALGORITHMS as OPENSSH_DEFAULTS } from '../config/algorithm-lists.js';
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

export { nativeCryptoLoaded } from './native-crypto.js';

/** The key type a host-key signature algorithm proves: the RSA SHA-2 ones are `ssh-rsa` keys. */
function keyTypeOfAlgorithm(algorithm: string): string {
  return algorithm === 'rsa-sha2-512' || algorithm === 'rsa-sha2-256' ? 'ssh-rsa' : algorithm;
}

/**
 * OpenSSH's `order_hostkeyalgs`: the algorithms for key types known_hosts already holds for
 * the host come first, the others keep their order after them. Without it a host known only
 * by, say, its RSA key would show its Ed25519 key and fail `StrictHostKeyChecking yes`.
 */
export function preferKnownKeyTypes(algorithms: readonly string[], known: ReadonlySet<string>): string[] {
  const first = algorithms.filter((a) => known.has(keyTypeOfAlgorithm(a)));
  return [...first, ...algorithms.filter((a) => !first.includes(a))];
}

/**
 * Map a HostConfig's algorithm lists onto ssh2's, keeping only names ssh2 supports, in order.
 * `knownKeyTypes` (from known_hosts) reorders the host-key algorithms when the config left
 * them at the default, as OpenSSH does.
 */
/** Whether HostKeyAlgorithms is OpenSSH's default, so known_hosts decides the order (sshconnect2.c). */
export function usesKnownHostsOrder(host: HostConfig): boolean {
  return (
    host.hostKeyAlgorithms.length === 0 ||
    (host.hostKeyAlgorithms.length === OPENSSH_DEFAULTS.hostkeyalgorithms.length &&
      host.hostKeyAlgorithms.every((a, i) => a === OPENSSH_DEFAULTS.hostkeyalgorithms[i]))
  );
}

export function algorithmsFor(host: HostConfig, knownKeyTypes?: ReadonlySet<string>): Algorithms {
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
  if (knownKeyTypes && knownKeyTypes.size > 0 && usesKnownHostsOrder(host)) {
    const ordered = preferKnownKeyTypes(hostKey ?? DEFAULT_ALGORITHMS.serverHostKey, knownKeyTypes);
    out.serverHostKey = ordered as Algorithms['serverHostKey'];
  } else if (hostKey) out.serverHostKey = hostKey as Algorithms['serverHostKey'];
  if (cipher) out.cipher = cipher as Algorithms['cipher'];
  if (hmac) out.hmac = hmac as Algorithms['hmac'];
  out.compress = host.compression
    ? ['zlib@openssh.com', 'zlib', 'none']
    : ['none', 'zlib@openssh.com', 'zlib'];
  return out;
}
