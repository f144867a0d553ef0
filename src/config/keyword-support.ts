import { ConfigError } from '../errors.js';
import { DEFAULT_ALGORITHMS } from './algorithm-lists.js';
import type { HostConfig } from './host-config.js';

/**
 * What sshmux does with each OpenSSH 9.2 client keyword when *connecting* (`-G` prints them all):
 * - `honoured`: done as OpenSSH does it.
 * - `refused-unless-default`: sshmux cannot do a non-default value yet; a connection whose
 *   effective value is not in `accepted` fails with a ConfigError naming keyword and value.
 * - `inert`: means nothing unless another keyword (named in `why`) is set, which is itself
 *   refused; OpenSSH ignores it then too, so any value is accepted.
 */
export type KeywordStatus = 'honoured' | 'refused-unless-default' | 'inert';

/** What sshmux does with one ssh_config keyword, and why. */
export interface KeywordSupport {
  /** The keyword as OpenSSH's manual spells it. */
  readonly name: string;
  /** Honoured, refused unless at its default, or inert. */
  readonly status: KeywordStatus;
  /** `refused-unless-default`: the printed (ssh -G) values sshmux accepts; unset is always fine. */
  readonly accepted?: readonly string[];
  /** The feature, for the refusal message and docs/config.md. */
  readonly why: string;
}

const honoured = (name: string, why: string): KeywordSupport => ({ name, status: 'honoured', why });
const inert = (name: string, why: string): KeywordSupport => ({ name, status: 'inert', why });
const refused = (name: string, accepted: readonly string[], why: string): KeywordSupport => ({
  name,
  status: 'refused-unless-default',
  accepted,
  why,
});

const PER_LINE = new Set(['localforward', 'remoteforward', 'dynamicforward', 'certificatefile']);
const HOSTKEY_DEFAULT = DEFAULT_ALGORITHMS.hostkeyalgorithms.join(',');

/** One row per OpenSSH 9.2 client keyword (Debian's build), alphabetical; keys are lowercase. */
export const KEYWORD_SUPPORT: Readonly<Record<string, KeywordSupport>> = {
  addkeystoagent: refused('AddKeysToAgent', ['false'], 'adding keys to the agent'),
  addressfamily: honoured('AddressFamily', 'address family of the TCP connection'),
  batchmode: honoured('BatchMode', 'no prompts'),
  bindaddress: honoured('BindAddress', 'local address of the TCP connection (-b)'),
  bindinterface: honoured('BindInterface', 'local address taken from an interface (-B)'),
  canonicaldomains: inert('CanonicalDomains', 'only used by CanonicalizeHostname'),
  canonicalizefallbacklocal: inert('CanonicalizeFallbackLocal', 'only used by CanonicalizeHostname'),
  canonicalizehostname: refused('CanonicalizeHostname', ['false'], 'host name canonicalisation'),
  canonicalizemaxdots: inert('CanonicalizeMaxDots', 'only used by CanonicalizeHostname'),
  canonicalizepermittedcnames: refused('CanonicalizePermittedCNAMEs', ['none'], 'CNAME following'),
  casignaturealgorithms: refused(
    'CASignatureAlgorithms',
    [DEFAULT_ALGORITHMS.casignaturealgorithms.join(',')],
    'certificate authorities',
  ),
  certificatefile: refused('CertificateFile', [], 'user certificates'),
  checkhostip: honoured('CheckHostIP', 'known_hosts check of the address'),
  ciphers: honoured('Ciphers', 'cipher list'),
  clearallforwardings: honoured('ClearAllForwardings', 'clears every forward'),
  compression: honoured('Compression', 'zlib compression'),
  connectionattempts: honoured('ConnectionAttempts', 'TCP connect retries, 1 s apart'),
  connecttimeout: honoured('ConnectTimeout', 'connect timeout'),
  controlmaster: honoured('ControlMaster', 'connection sharing (the sshmux daemon is the master)'),
  controlpath: honoured('ControlPath', 'connection sharing key'),
  controlpersist: honoured('ControlPersist', 'idle time of the shared connection'),
  dynamicforward: honoured('DynamicForward', 'SOCKS4/4A/5 forwarding (-D)'),
  enableescapecommandline: refused('EnableEscapeCommandline', ['no'], 'the ~C command line'),
  enablesshkeysign: refused('EnableSSHKeysign', ['no'], 'ssh-keysign for host-based authentication'),
  escapechar: honoured('EscapeChar', 'escape sequences of pty sessions (-e)'),
  exitonforwardfailure: honoured('ExitOnForwardFailure', 'exit 255 when a forward cannot be set up'),
  fingerprinthash: refused('FingerprintHash', ['SHA256'], 'fingerprints in other hashes'),
  forkafterauthentication: honoured(
    'ForkAfterAuthentication',
    'going to the background once authenticated (-f)',
  ),
  forwardagent: honoured('ForwardAgent', 'agent forwarding: yes, a socket path or $VAR, to the local agent'),
  forwardx11: refused('ForwardX11', ['no'], 'X11 forwarding'),
  forwardx11timeout: inert('ForwardX11Timeout', 'only used by ForwardX11'),
  forwardx11trusted: inert('ForwardX11Trusted', 'only used by ForwardX11'),
  gatewayports: honoured('GatewayPorts', 'forwards without an address listen on all addresses (-g)'),
  globalknownhostsfile: honoured('GlobalKnownHostsFile', 'system known_hosts files'),
  gssapiauthentication: honoured(
    'GSSAPIAuthentication',
    'GSSAPI authentication: skipped where ssh skips it (no ticket, not offered), refused by name where ssh would use it',
  ),
  gssapiclientidentity: inert('GSSAPIClientIdentity', 'only used by GSSAPIAuthentication'),
  gssapidelegatecredentials: inert('GSSAPIDelegateCredentials', 'only used by GSSAPIAuthentication'),
  gssapikexalgorithms: inert('GSSAPIKexAlgorithms', 'only used by GSSAPIKeyExchange'),
  gssapikeyexchange: refused('GSSAPIKeyExchange', ['no'], 'GSSAPI key exchange'),
  gssapirenewalforcesrekey: inert('GSSAPIRenewalForcesRekey', 'only used by GSSAPIKeyExchange'),
  gssapiserveridentity: inert('GSSAPIServerIdentity', 'only used by GSSAPIAuthentication'),
  gssapitrustdns: inert('GSSAPITrustDns', 'only used by GSSAPIAuthentication'),
  hashknownhosts: honoured('HashKnownHosts', 'hashed names for new known_hosts lines'),
  host: honoured('Host', 'the destination as typed'),
  hostbasedacceptedalgorithms: inert('HostbasedAcceptedAlgorithms', 'only used by HostbasedAuthentication'),
  hostbasedauthentication: honoured(
    'HostbasedAuthentication',
    'host-based authentication: skipped where ssh skips it, refused by name where ssh would use it',
  ),
  hostkeyalgorithms: honoured('HostKeyAlgorithms', 'host key algorithm list'),
  hostkeyalias: honoured('HostKeyAlias', 'known_hosts name'),
  hostname: honoured('HostName', 'the host connected to'),
  identitiesonly: honoured('IdentitiesOnly', 'only configured keys'),
  identityagent: honoured('IdentityAgent', 'agent socket'),
  identityfile: honoured('IdentityFile', 'private keys'),
  ignoreunknown: honoured('IgnoreUnknown', 'unknown keywords ignored (while reading)'),
  ipqos: refused(
    'IPQoS',
    ['lowdelay throughput', 'none none'],
    'IP type of service (the default is not applied)',
  ),
  kbdinteractiveauthentication: honoured(
    'KbdInteractiveAuthentication',
    'keyboard-interactive authentication',
  ),
  kbdinteractivedevices: inert('KbdInteractiveDevices', 'only used by keyboard-interactive authentication'),
  kexalgorithms: honoured('KexAlgorithms', 'key exchange list'),
  knownhostscommand: honoured(
    'KnownHostsCommand',
    'host keys from a command (the client connects in-process)',
  ),
  localcommand: honoured('LocalCommand', 'a local command after authentication (with PermitLocalCommand)'),
  localforward: honoured('LocalForward', 'local port and socket forwarding (-L)'),
  loglevel: honoured('LogLevel', "verbosity of ssh's own messages"),
  logverbose: inert('LogVerbose', 'only used at debug LogLevels'),
  macs: honoured('MACs', 'MAC list'),
  nohostauthenticationforlocalhost: refused(
    'NoHostAuthenticationForLocalhost',
    ['no'],
    'skipping host keys for localhost',
  ),
  numberofpasswordprompts: honoured(
    'NumberOfPasswordPrompts',
    'password, passphrase and keyboard-interactive tries',
  ),
  passwordauthentication: honoured('PasswordAuthentication', 'password authentication'),
  permitlocalcommand: honoured('PermitLocalCommand', 'LocalCommand allowed'),
  permitremoteopen: honoured('PermitRemoteOpen', 'where remote dynamic forwarding (-R port) may connect'),
  pkcs11provider: refused('PKCS11Provider', [], 'PKCS#11 keys'),
  port: honoured('Port', 'the port connected to'),
  preferredauthentications: honoured('PreferredAuthentications', 'authentication order and restriction'),
  proxycommand: honoured('ProxyCommand', 'the transport through a command (the client connects in-process)'),
  proxyjump: honoured('ProxyJump', 'jump hosts'),
  proxyusefdpass: refused('ProxyUseFdpass', ['no'], 'a descriptor passed by the ProxyCommand'),
  pubkeyacceptedalgorithms: refused(
    'PubkeyAcceptedAlgorithms',
    [HOSTKEY_DEFAULT],
    'restricting key algorithms',
  ),
  pubkeyauthentication: refused(
    'PubkeyAuthentication',
    ['true', 'false', 'unbound'],
    'host-bound public-key authentication',
  ),
  rekeylimit: refused('RekeyLimit', ['0 0'], 'rekeying limits'),
  remotecommand: honoured('RemoteCommand', 'the remote command from the configuration'),
  remoteforward: honoured(
    'RemoteForward',
    'remote forwarding of TCP ports and Unix sockets; the remote dynamic (SOCKS) form is refused by name',
  ),
  requesttty: honoured('RequestTTY', 'pseudo-terminal request (-t/-T and the keyword)'),
  requiredrsasize: honoured('RequiredRSASize', 'shortest RSA host and user key accepted (never below 1024)'),
  revokedhostkeys: refused('RevokedHostKeys', [], 'revoked host key files'),
  securitykeyprovider: refused('SecurityKeyProvider', ['internal'], 'security key providers'),
  sendenv: honoured('SendEnv', 'environment sent'),
  serveralivecountmax: honoured('ServerAliveCountMax', 'keepalive limit'),
  serveraliveinterval: honoured('ServerAliveInterval', 'keepalive interval'),
  sessiontype: honoured('SessionType', 'none (-N: no session) and subsystem (-s)'),
  setenv: honoured('SetEnv', 'environment set'),
  stdinnull: honoured('StdinNull', 'stdin from /dev/null (-n and the keyword)'),
  streamlocalbindmask: honoured('StreamLocalBindMask', 'mode of Unix-socket listeners'),
  streamlocalbindunlink: honoured('StreamLocalBindUnlink', 'an old socket file is removed first'),
  stricthostkeychecking: honoured('StrictHostKeyChecking', 'host key policy'),
  syslogfacility: inert('SyslogFacility', 'only used with -y (syslog)'),
  tcpkeepalive: honoured('TCPKeepAlive', 'SO_KEEPALIVE on the TCP socket'),
  tunnel: refused('Tunnel', ['false'], 'tun device forwarding'),
  tunneldevice: inert('TunnelDevice', 'only used by Tunnel'),
  // `yes`/`true` and `no` are applied (src/security/update-host-keys.ts); only `ask`'s prompt is missing.
  updatehostkeys: refused(
    'UpdateHostKeys',
    ['true', 'false'],
    'asking before updating known_hosts; `yes` and `no` are honoured',
  ),
  user: honoured('User', 'the remote user'),
  userknownhostsfile: honoured('UserKnownHostsFile', 'user known_hosts files'),
  verifyhostkeydns: refused('VerifyHostKeyDNS', ['false'], 'SSHFP DNS records'),
  visualhostkey: refused('VisualHostKey', ['no'], 'ASCII-art host keys'),
  xauthlocation: inert('XAuthLocation', 'only used by ForwardX11'),
};

/**
 * Refuse a connection whose *effective* options ask for something sshmux cannot do (an option in
 * a Host block that did not match never refuses). Configs without `effective` (plainHostConfig)
 * carry only what sshmux does and pass.
 */
export function assertConnectable(host: HostConfig): void {
  // The daemon gets HostConfigs as JSON (effective lost); the CLI that sent them checked already.
  if (!(host.effective instanceof Map)) return;
  for (const [keyword, values] of host.effective) {
    const row = KEYWORD_SUPPORT[keyword];
    if (row === undefined || row.status !== 'refused-unless-default') continue;
    // -W forces SessionType none: the stdio forward is the whole run (cli/ssh-stdio.ts).
    if (keyword === 'sessiontype' && host.stdioForward !== undefined) continue;
    // Per-line keywords (forwards, CertificateFile) are refused at their first value.
    const value = PER_LINE.has(keyword) ? (values[0] ?? '') : values.join(' ');
    if (row.accepted?.includes(value)) continue;
    throw new ConfigError(
      `${row.name} ${value} is not supported by sshmux (${row.why}); remove it or use OpenSSH's ssh`,
      { destination: host.originalHost },
    );
  }
}
