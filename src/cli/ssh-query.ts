import { ALL_ALGORITHMS } from '../config/algorithm-lists.js';
import { sshConfigError, sshErrorText } from '../config/ssh-error.js';
import type { ConfigError } from '../errors.js';
import type { CliContext } from './context.js';

const SIG = ALL_ALGORITHMS.hostkeyalgorithms;
// Key types are the signature algorithms without the rsa-sha2 and webauthn signature-only names.
const KEY = SIG.filter((n) => !n.startsWith('rsa-sha2-') && !n.startsWith('webauthn-'));
const cert = (n: string) => n.includes('-cert-v01@');
/** Debian's build also lists its GSSAPI key exchanges. */
const KEX_GSS = [
  'gss-gex-sha1-',
  'gss-group1-sha1-',
  'gss-group14-sha1-',
  'gss-group14-sha256-',
  'gss-group16-sha512-',
  'gss-nistp256-sha256-',
  'gss-curve25519-sha256-',
];

const QUERIES: Readonly<Record<string, readonly string[]>> = {
  cipher: ALL_ALGORITHMS.ciphers,
  'cipher-auth': ALL_ALGORITHMS.ciphers.filter((n) => n.includes('gcm@') || n.startsWith('chacha20-')),
  compression: ['none', 'zlib@openssh.com', 'zlib'],
  kex: ALL_ALGORITHMS.kexalgorithms,
  'kex-gss': KEX_GSS,
  key: KEY,
  'key-cert': KEY.filter(cert),
  'key-plain': KEY.filter((n) => !cert(n)),
  'key-sig': SIG,
  mac: ALL_ALGORITHMS.macs,
  'protocol-version': ['2'],
  sig: SIG.filter((n) => !cert(n)),
};

/** Names ssh.c also takes, case-insensitively, for some queries. */
const ALIASES: Readonly<Record<string, string>> = {
  ciphers: 'cipher',
  macs: 'mac',
  kexalgorithms: 'kex',
  pubkeyacceptedkeytypes: 'key-sig',
  pubkeyacceptedalgorithms: 'key-sig',
  hostkeyalgorithms: 'key-sig',
  hostbasedkeytypes: 'key-sig',
  hostbasedacceptedkeytypes: 'key-sig',
  hostbasedacceptedalgorithms: 'key-sig',
};

/** `ssh -Q what`: the list ssh prints (one name a line), or ssh's fatal error for an unknown query. */
export function sshQuery(what: string): string {
  if (what === 'help') return `${[...Object.keys(QUERIES)].sort().join('\n')}\n`;
  const key = QUERIES[what] !== undefined ? what : ALIASES[what.toLowerCase()];
  const list = key === undefined ? undefined : QUERIES[key];
  if (list === undefined) throw sshConfigError(`Unsupported query "${what}"`);
  return `${list.join('\n')}\n`;
}

/** `sshmux ssh -Q what`: the list on stdout and 0, or ssh's error and 255. */
export function runQuery(what: string, ctx: Pick<CliContext, 'stdout' | 'stderr'>): number {
  try {
    ctx.stdout.write(sshQuery(what));
    return 0;
  } catch (err) {
    ctx.stderr.write(sshErrorText(err as ConfigError, false) ?? '');
    return 255;
  }
}
