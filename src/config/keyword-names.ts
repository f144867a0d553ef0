/** The keyword names of OpenSSH 9.2's readconf.c, sorted by how they are handled. */

/** Keywords resolved and printed exactly like OpenSSH 9.2 (the `ssh -G` parity set). */
export const SUPPORTED_KEYWORDS: readonly string[] = [
  'host',
  'user',
  'hostname',
  'port',
  'addressfamily',
  'batchmode',
  'checkhostip',
  'compression',
  'controlmaster',
  'hashknownhosts',
  'identitiesonly',
  'stricthostkeychecking',
  'serveralivecountmax',
  'serveraliveinterval',
  'ciphers',
  'controlpath',
  'hostkeyalgorithms',
  'hostkeyalias',
  'identityagent',
  'kexalgorithms',
  'macs',
  'identityfile',
  'globalknownhostsfile',
  'userknownhostsfile',
  'sendenv',
  'setenv',
  'connecttimeout',
  'controlpersist',
  'proxyjump',
];

/** Other OpenSSH 9.2 client keywords: kept first-wins (raw) and printed, but not interpreted. */
export const OTHER_KEYWORDS = new Set(
  `addkeystoagent batchmode bindaddress bindinterface canonicaldomains canonicalizefallbacklocal
  canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames casignaturealgorithms
  clearallforwardings connectionattempts enableescapecommandline enablesshkeysign escapechar
  exitonforwardfailure fingerprinthash forkafterauthentication forwardagent forwardx11
  forwardx11timeout forwardx11trusted gatewayports gssapiauthentication gssapidelegatecredentials
  gssapikeyexchange gssapitrustdns gssapirenewalforcesrekey gssapikexalgorithms gssapiclientidentity
  gssapiserveridentity hostbasedacceptedalgorithms hostbasedauthentication ignoreunknown ipqos
  kbdinteractiveauthentication kbdinteractivedevices knownhostscommand localcommand loglevel logverbose
  nohostauthenticationforlocalhost numberofpasswordprompts passwordauthentication permitlocalcommand
  permitremoteopen pkcs11provider preferredauthentications proxycommand proxyusefdpass
  pubkeyacceptedalgorithms pubkeyauthentication rekeylimit remotecommand requesttty requiredrsasize
  revokedhostkeys securitykeyprovider sessiontype stdinnull streamlocalbindmask streamlocalbindunlink
  syslogfacility tcpkeepalive tunnel tunneldevice updatehostkeys verifyhostkeydns visualhostkey
  xauthlocation`.split(/\s+/),
);

/** Accumulating keywords among the others. */
export const OTHER_ACCUMULATING = new Set([
  'localforward',
  'remoteforward',
  'dynamicforward',
  'certificatefile',
]);
/** Keywords whose argument is the rest of the line, unsplit. */
export const REST_OF_LINE = new Set(['proxycommand', 'localcommand', 'remotecommand', 'knownhostscommand']);

const ALIASES: Record<string, string> = {
  pubkeyacceptedkeytypes: 'pubkeyacceptedalgorithms',
  hostbasedkeytypes: 'hostbasedacceptedalgorithms',
  challengeresponseauthentication: 'kbdinteractiveauthentication',
  skeyauthentication: 'kbdinteractiveauthentication',
  tisauthentication: 'kbdinteractiveauthentication',
  keepalive: 'tcpkeepalive',
  smartcarddevice: 'pkcs11provider',
  identityfile2: 'identityfile',
  dsaauthentication: 'pubkeyauthentication',
};

/** readconf.c's oIgnore: accepted without a word. */
export const IGNORED = new Set(['protocol']);
/** readconf.c's oDeprecated: logged at debug level only, so silent at ssh's default LogLevel. */
export const DEPRECATED = new Set(
  'cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2 useroaming usersh useprivilegedport'.split(
    ' ',
  ),
);
/** readconf.c's oUnsupported (in a build with GSSAPI and PKCS#11, as Debian's): a warning, then go on. */
export const UNSUPPORTED = new Set(
  'afstokenpassing kerberosauthentication kerberostgtpassing rsaauthentication rhostsrsaauthentication compressionlevel'.split(
    ' ',
  ),
);

export function canonicalKeyword(keyword: string): string {
  return ALIASES[keyword] ?? keyword;
}

export function isKnownKeyword(keyword: string): boolean {
  const kw = canonicalKeyword(keyword);
  return (
    SUPPORTED_KEYWORDS.includes(kw) ||
    OTHER_KEYWORDS.has(kw) ||
    OTHER_ACCUMULATING.has(kw) ||
    IGNORED.has(kw) ||
    DEPRECATED.has(kw) ||
    UNSUPPORTED.has(kw) ||
    ['host', 'match', 'include'].includes(kw)
  );
}
