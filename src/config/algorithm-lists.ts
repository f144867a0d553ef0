import { ConfigError } from '../errors.js';
import { matchPatternList } from './pattern.js';

/** The algorithm keywords and, per keyword, OpenSSH 9.2's client default and full lists. */
export type AlgorithmKeyword =
  | 'ciphers'
  | 'kexalgorithms'
  | 'macs'
  | 'hostkeyalgorithms'
  | 'pubkeyacceptedalgorithms'
  | 'hostbasedacceptedalgorithms'
  | 'casignaturealgorithms';

/** SSH_ALLOWED_CA_SIGALGS: the CA signature algorithms ssh accepts by default. */
const CA_DEFAULT = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

const HOSTKEY_DEFAULT = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  // The plain key types, in the same order as the CA signature algorithms.
  ...CA_DEFAULT,
];

/** Defaults as `ssh -G` of OpenSSH 9.2 prints them (KEX_CLIENT_* in myproposal.h). */
export const DEFAULT_ALGORITHMS: Readonly<Record<AlgorithmKeyword, readonly string[]>> = {
  ciphers: [
    'chacha20-poly1305@openssh.com',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
  ],
  kexalgorithms: [
    'sntrup761x25519-sha512',
    'sntrup761x25519-sha512@openssh.com',
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'diffie-hellman-group-exchange-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group14-sha256',
  ],
  macs: [
    'umac-64-etm@openssh.com',
    'umac-128-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512-etm@openssh.com',
    'hmac-sha1-etm@openssh.com',
    'umac-64@openssh.com',
    'umac-128@openssh.com',
    'hmac-sha2-256',
    'hmac-sha2-512',
    'hmac-sha1',
  ],
  hostkeyalgorithms: HOSTKEY_DEFAULT,
  pubkeyacceptedalgorithms: HOSTKEY_DEFAULT,
  hostbasedacceptedalgorithms: HOSTKEY_DEFAULT,
  casignaturealgorithms: CA_DEFAULT,
};

/** `ssh -Q HostKeyAlgorithms` of OpenSSH 9.2. */
const HOSTKEY_ALL = [
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ssh-dss',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-rsa',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512',
  'rsa-sha2-512-cert-v01@openssh.com',
];

/** Every name OpenSSH 9.2 knows (`ssh -Q cipher|kex|mac|HostKeyAlgorithms`), in its order. */
export const ALL_ALGORITHMS: Readonly<Record<AlgorithmKeyword, readonly string[]>> = {
  ciphers: [
    '3des-cbc',
    'aes128-cbc',
    'aes192-cbc',
    'aes256-cbc',
    'aes128-ctr',
    'aes192-ctr',
    'aes256-ctr',
    'aes128-gcm@openssh.com',
    'aes256-gcm@openssh.com',
    'chacha20-poly1305@openssh.com',
  ],
  kexalgorithms: [
    'diffie-hellman-group1-sha1',
    'diffie-hellman-group14-sha1',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
    'diffie-hellman-group18-sha512',
    'diffie-hellman-group-exchange-sha1',
    'diffie-hellman-group-exchange-sha256',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'ecdh-sha2-nistp521',
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'sntrup761x25519-sha512',
    'sntrup761x25519-sha512@openssh.com',
  ],
  macs: [
    'hmac-sha1',
    'hmac-sha1-96',
    'hmac-sha2-256',
    'hmac-sha2-512',
    'hmac-md5',
    'hmac-md5-96',
    'umac-64@openssh.com',
    'umac-128@openssh.com',
    'hmac-sha1-etm@openssh.com',
    'hmac-sha1-96-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-512-etm@openssh.com',
    'hmac-md5-etm@openssh.com',
    'hmac-md5-96-etm@openssh.com',
    'umac-64-etm@openssh.com',
    'umac-128-etm@openssh.com',
  ],
  hostkeyalgorithms: HOSTKEY_ALL,
  pubkeyacceptedalgorithms: HOSTKEY_ALL,
  hostbasedacceptedalgorithms: HOSTKEY_ALL,
  casignaturealgorithms: HOSTKEY_ALL.filter((n) => !n.includes('-cert-')),
};

const SPEC_ERROR: Record<AlgorithmKeyword, string> = {
  ciphers: 'Bad SSH2 cipher spec',
  kexalgorithms: 'Bad SSH2 KexAlgorithms',
  macs: 'Bad SSH2 MAC spec',
  hostkeyalgorithms: 'Bad key types',
  pubkeyacceptedalgorithms: 'Bad key types',
  hostbasedacceptedalgorithms: 'Bad key types',
  casignaturealgorithms: 'Bad key types',
};

/**
 * Parse-time check of readconf.c: `-` lists are not checked; otherwise every name must be known
 * exactly (HostKeyAlgorithms also takes wildcards). Throws naming `where`.
 */
export function validateAlgorithmSpec(keyword: AlgorithmKeyword, spec: string, where: string): void {
  if (spec.startsWith('-')) return;
  const body = spec.startsWith('+') || spec.startsWith('^') ? spec.slice(1) : spec;
  const known = ALL_ALGORITHMS[keyword];
  const ok = body.split(',').every((name) => {
    if (name === '') return false;
    if (SPEC_ERROR[keyword] === 'Bad key types' && /[*?]/.test(name)) return !name.startsWith('!');
    return known.includes(name);
  });
  if (!ok) throw new ConfigError(`${where}: ${SPEC_ERROR[keyword]} '${spec}'.`);
}

// kex_names_cat(): a, then names of b not already in a.
function cat(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  for (const n of b) if (!out.includes(n)) out.push(n);
  return out;
}

/**
 * `kex_assemble_names()`: `+list` appends to the default, `-list` removes matches from it, `^list`
 * prepends, a plain list replaces it; wildcards then select from every known name.
 */
export function assembleAlgorithms(keyword: AlgorithmKeyword, spec: string | undefined): string[] {
  const def = DEFAULT_ALGORITHMS[keyword];
  if (spec === undefined || spec === '') return [...def];
  let list: string[];
  if (spec.startsWith('-')) {
    const out = def.filter((n) => matchPatternList(n, spec.slice(1)) !== 1);
    if (out.length === 0) throw new ConfigError(`${keyword}: \`${spec}\` leaves no algorithm`);
    return out;
  }
  if (spec.startsWith('+')) list = cat(def, spec.slice(1).split(','));
  else if (spec.startsWith('^')) list = cat(spec.slice(1).split(','), def);
  else list = spec.split(',');
  let out: string[] = [];
  for (const pattern of list) {
    if (pattern.startsWith('!')) throw new ConfigError(`${keyword}: negation is not allowed in \`${spec}\``);
    out = cat(
      out,
      ALL_ALGORITHMS[keyword].filter((n) => matchPatternList(n, pattern) === 1),
    );
  }
  if (out.length === 0) throw new ConfigError(`${keyword}: \`${spec}\` selects no algorithm`);
  return out;
}
