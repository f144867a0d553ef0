import { DEFAULT_ALGORITHMS } from './algorithm-lists.js';
import type { HostConfig } from './host-config.js';

/** Keys in the order OpenSSH 9.2's dump_client_config() prints them. */
const ORDER = `host user hostname port addressfamily batchmode canonicalizefallbacklocal canonicalizehostname
checkhostip compression controlmaster enablesshkeysign clearallforwardings exitonforwardfailure fingerprinthash
forwardx11 forwardx11trusted gatewayports gssapiauthentication gssapikeyexchange gssapidelegatecredentials
gssapitrustdns gssapirenewalforcesrekey gssapiclientidentity gssapiserveridentity gssapikexalgorithms hashknownhosts hostbasedauthentication identitiesonly
kbdinteractiveauthentication nohostauthenticationforlocalhost passwordauthentication permitlocalcommand
proxyusefdpass pubkeyauthentication requesttty sessiontype stdinnull forkafterauthentication streamlocalbindunlink
stricthostkeychecking tcpkeepalive tunnel verifyhostkeydns visualhostkey updatehostkeys enableescapecommandline
canonicalizemaxdots connectionattempts forwardx11timeout numberofpasswordprompts serveralivecountmax
serveraliveinterval requiredrsasize bindaddress bindinterface ciphers controlpath hostkeyalgorithms hostkeyalias
hostbasedacceptedalgorithms identityagent ignoreunknown kbdinteractivedevices kexalgorithms casignaturealgorithms
localcommand remotecommand loglevel macs pkcs11provider securitykeyprovider preferredauthentications
pubkeyacceptedalgorithms revokedhostkeys xauthlocation knownhostscommand dynamicforward localforward remoteforward
identityfile canonicaldomains certificatefile globalknownhostsfile userknownhostsfile sendenv setenv logverbose
permitremoteopen addkeystoagent forwardagent connecttimeout tunneldevice canonicalizepermittedcnames controlpersist
escapechar ipqos rekeylimit streamlocalbindmask syslogfacility proxycommand proxyjump`.split(/\s+/);

/** Keys printed one value per line. */
const PER_LINE = new Set([
  'identityfile',
  'certificatefile',
  'sendenv',
  'setenv',
  'localforward',
  'remoteforward',
  'dynamicforward',
]);

/** What OpenSSH 9.2 (Debian build) prints for options sshmux does not interpret, when unset. */
const PRINTED_DEFAULTS: Readonly<Record<string, string>> = {
  addressfamily: 'any',
  batchmode: 'no',
  canonicalizefallbacklocal: 'yes',
  canonicalizehostname: 'false',
  checkhostip: 'no',
  compression: 'no',
  controlmaster: 'false',
  enablesshkeysign: 'no',
  clearallforwardings: 'no',
  exitonforwardfailure: 'no',
  fingerprinthash: 'SHA256',
  forwardx11: 'no',
  forwardx11trusted: 'yes',
  gatewayports: 'no',
  gssapiauthentication: 'no',
  gssapikeyexchange: 'no',
  gssapidelegatecredentials: 'no',
  gssapitrustdns: 'no',
  gssapirenewalforcesrekey: 'no',
  gssapikexalgorithms:
    'gss-group14-sha256-,gss-group16-sha512-,gss-nistp256-sha256-,gss-curve25519-sha256-,gss-group14-sha1-,gss-gex-sha1-',
  hashknownhosts: 'no',
  hostbasedauthentication: 'no',
  identitiesonly: 'no',
  kbdinteractiveauthentication: 'yes',
  nohostauthenticationforlocalhost: 'no',
  passwordauthentication: 'yes',
  permitlocalcommand: 'no',
  proxyusefdpass: 'no',
  pubkeyauthentication: 'true',
  requesttty: 'auto',
  sessiontype: 'default',
  stdinnull: 'no',
  forkafterauthentication: 'no',
  streamlocalbindunlink: 'no',
  stricthostkeychecking: 'ask',
  tcpkeepalive: 'yes',
  tunnel: 'false',
  verifyhostkeydns: 'false',
  visualhostkey: 'no',
  updatehostkeys: 'true',
  enableescapecommandline: 'no',
  canonicalizemaxdots: '1',
  connectionattempts: '1',
  forwardx11timeout: '1200',
  numberofpasswordprompts: '3',
  serveralivecountmax: '3',
  serveraliveinterval: '0',
  requiredrsasize: '1024',
  hostbasedacceptedalgorithms: DEFAULT_ALGORITHMS.hostkeyalgorithms.join(','),
  casignaturealgorithms:
    'ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256',
  loglevel: 'INFO',
  securitykeyprovider: 'internal',
  pubkeyacceptedalgorithms: DEFAULT_ALGORITHMS.hostkeyalgorithms.join(','),
  xauthlocation: '/usr/bin/xauth',
  canonicaldomains: 'none',
  logverbose: 'none',
  permitremoteopen: 'any',
  addkeystoagent: 'false',
  forwardagent: 'no',
  connecttimeout: 'none',
  tunneldevice: 'any:any',
  canonicalizepermittedcnames: 'none',
  controlpersist: 'no',
  escapechar: '~',
  ipqos: 'lowdelay throughput',
  rekeylimit: '0 0',
  streamlocalbindmask: '0177',
  syslogfacility: 'USER',
};

/** Printed key names differing from the lowercase keyword (an OpenSSH quirk kept for diffing). */
const PRINTED_NAME: Readonly<Record<string, string>> = {
  canonicalizepermittedcnames: 'canonicalizePermittedcnames',
};

/** The ssh -G values of the fields HostConfig types, for configs built without `effective`. */
export function effectiveFromTyped(h: HostConfig): Map<string, readonly string[]> {
  const yn = (b: boolean) => [b ? 'yes' : 'no'];
  const strict = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[
    h.strictHostKeyChecking
  ];
  const master: Record<string, string> = { yes: 'true', no: 'false' };
  const m = new Map<string, readonly string[]>([
    ['host', [h.originalHost]],
    ['user', [h.user]],
    ['hostname', [h.hostname.includes(':') ? `[${h.hostname}]` : h.hostname]],
    ['port', [String(h.port)]],
    ['addressfamily', [h.addressFamily]],
    ['batchmode', yn(h.batchMode)],
    ['checkhostip', yn(h.checkHostIp)],
    ['compression', yn(h.compression)],
    ['controlmaster', [master[h.controlMaster] ?? h.controlMaster]],
    ['hashknownhosts', yn(h.hashKnownHosts)],
    ['identitiesonly', yn(h.identitiesOnly)],
    ['stricthostkeychecking', [strict]],
    ['serveralivecountmax', [String(h.serverAliveCountMax)]],
    ['serveraliveinterval', [String(h.serverAliveInterval)]],
    ['ciphers', [(h.ciphers.length ? h.ciphers : DEFAULT_ALGORITHMS.ciphers).join(',')]],
    [
      'hostkeyalgorithms',
      [(h.hostKeyAlgorithms.length ? h.hostKeyAlgorithms : DEFAULT_ALGORITHMS.hostkeyalgorithms).join(',')],
    ],
    [
      'kexalgorithms',
      [(h.kexAlgorithms.length ? h.kexAlgorithms : DEFAULT_ALGORITHMS.kexalgorithms).join(',')],
    ],
    ['macs', [(h.macs.length ? h.macs : DEFAULT_ALGORITHMS.macs).join(',')]],
    ['identityfile', h.identityFiles],
    ['globalknownhostsfile', h.globalKnownHostsFiles.length ? h.globalKnownHostsFiles : ['none']],
    ['userknownhostsfile', h.userKnownHostsFiles.length ? h.userKnownHostsFiles : ['none']],
    ['sendenv', h.sendEnv],
    ['setenv', Object.entries(h.setEnv).map(([k, v]) => `${k}=${v}`)],
    [
      'connecttimeout',
      [h.connectTimeoutMs === undefined ? 'none' : String(Math.round(h.connectTimeoutMs / 1000))],
    ],
    [
      'controlpersist',
      [
        h.controlPersistSeconds === undefined
          ? 'no'
          : h.controlPersistSeconds === Number.POSITIVE_INFINITY
            ? 'yes'
            : String(h.controlPersistSeconds),
      ],
    ],
  ]);
  if (h.controlPath !== undefined) m.set('controlpath', [h.controlPath]);
  if (h.hostKeyAlias !== undefined) m.set('hostkeyalias', [h.hostKeyAlias]);
  if (h.identityAgent !== undefined) m.set('identityagent', [h.identityAgent]);
  if (h.proxyJump.length > 0) m.set('proxyjump', [h.proxyJump.join(',')]);
  return m;
}

/**
 * Print a HostConfig as `ssh -G` does (OpenSSH 9.2 key names and order), so the two can be diffed.
 * Keywords OpenSSH does not know come last, as `keyword value`.
 */
export function formatSshG(host: HostConfig): string {
  const values = host.effective ?? effectiveFromTyped(host);
  const lines: string[] = [];
  const known = new Set(ORDER);
  for (const key of ORDER) {
    let v = values.get(key);
    if (v === undefined && PRINTED_DEFAULTS[key] !== undefined) v = [PRINTED_DEFAULTS[key]!];
    if (v === undefined || v.length === 0) continue;
    const name = PRINTED_NAME[key] ?? key;
    if (PER_LINE.has(key)) for (const one of v) lines.push(`${name} ${one}`);
    else lines.push(`${name} ${v.join(' ')}`);
  }
  for (const [key, v] of values) {
    // `#…` keys are sshmux's own bookkeeping (e.g. forwards for duplicate checks), never printed.
    if (!known.has(key) && !key.startsWith('#')) lines.push(`${key} ${v.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
