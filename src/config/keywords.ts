import { ConfigError } from '../errors.js';
import { type AlgorithmKeyword, validateAlgorithmSpec } from './algorithm-lists.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { convtime } from './convtime.js';
import { parsePort } from './destination.js';
import { type Forward, formatConnect, formatListen, parseForward, printedLocal } from './forward-spec.js';
import { LAST_WINS, noExtra, VALUE_PARSERS } from './keyword-values.js';
import type { OptionStore } from './option-store.js';
import { matchPattern, matchPatternList } from './pattern.js';
import { validateProxyJump } from './proxy-jump.js';

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
const OTHER_KEYWORDS = new Set(
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
const OTHER_ACCUMULATING = new Set(['localforward', 'remoteforward', 'dynamicforward', 'certificatefile']);
/** Keywords whose argument is the rest of the line, unsplit. */
const REST_OF_LINE = new Set(['proxycommand', 'localcommand', 'remotecommand', 'knownhostscommand']);

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
const IGNORED = new Set(['protocol']);
/** readconf.c's oDeprecated: logged at debug level only, so silent at ssh's default LogLevel. */
const DEPRECATED = new Set(
  'cipher fallbacktorsh globalknownhostsfile2 rhostsauthentication userknownhostsfile2 useroaming usersh useprivilegedport'.split(
    ' ',
  ),
);
/** readconf.c's oUnsupported (in a build with GSSAPI and PKCS#11, as Debian's): a warning, then go on. */
const UNSUPPORTED = new Set(
  'afstokenpassing kerberosauthentication kerberostgtpassing rsaauthentication rhostsrsaauthentication compressionlevel'.split(
    ' ',
  ),
);

const FLAG: Record<string, string> = { yes: 'yes', true: 'yes', no: 'no', false: 'no' };
const STRICT: Record<string, string> = {
  yes: 'true',
  true: 'true',
  no: 'false',
  false: 'false',
  off: 'false',
  ask: 'ask',
  'accept-new': 'accept-new',
};
const CONTROL_MASTER: Record<string, string> = {
  yes: 'true',
  true: 'true',
  no: 'false',
  false: 'false',
  auto: 'auto',
  ask: 'ask',
  autoask: 'autoask',
};
const ADDRESS_FAMILY: Record<string, string> = { inet: 'inet', inet6: 'inet6', any: 'any' };
/** log.c's names → what ssh -G prints (Debian's build spells QUIET `SILENT`, DEBUG1 `DEBUG`). */
const LOG_LEVEL: Record<string, string> = {
  SILENT: 'SILENT',
  QUIET: 'SILENT',
  FATAL: 'FATAL',
  ERROR: 'ERROR',
  INFO: 'INFO',
  VERBOSE: 'VERBOSE',
  DEBUG: 'DEBUG',
  DEBUG1: 'DEBUG',
  DEBUG2: 'DEBUG2',
  DEBUG3: 'DEBUG3',
};
const MAX_IDENTITY_FILES = 100;
const MAX_HOSTS_FILES = 16;

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

/**
 * readconf.c's parse_token for a keyword it does not know: ignored when it matches the
 * IgnoreUnknown patterns in effect *at this line* (set by an earlier active line), else an error
 * counted against the file, even inside a Host block that does not match.
 */
function unknownKeyword(store: OptionStore, line: ConfigLine): void {
  const patterns = store.first('ignoreunknown');
  if (patterns !== undefined && matchPatternList(line.keyword, patterns, true) === 1) return;
  throw new ConfigError(`${line.file}: line ${line.line}: Bad configuration option: ${line.keyword}`);
}

function one(line: ConfigLine): string {
  const [arg, ...extra] = line.args;
  if (arg === undefined || arg === '') {
    throw new ConfigError(`${where(line.file, line.line)}: missing argument for ${line.keyword}`);
  }
  if (extra.length > 0) {
    throw new ConfigError(
      `${where(line.file, line.line)}: keyword ${line.keyword} extra arguments at end of line`,
    );
  }
  return arg;
}

function choice(line: ConfigLine, table: Record<string, string>): string {
  const arg = one(line);
  const v = table[arg.toLowerCase()];
  if (v === undefined) throw new ConfigError(`${where(line.file, line.line)}: unsupported option "${arg}".`);
  return v;
}

function seconds(line: ConfigLine, allowNone: boolean): string {
  const arg = one(line);
  if (allowNone && arg === 'none') return 'none';
  const t = convtime(arg);
  if (t === undefined) throw new ConfigError(`${where(line.file, line.line)}: invalid time value.`);
  return String(t);
}

function integer(line: ConfigLine): string {
  const arg = one(line);
  if (!/^-?[0-9]+$/.test(arg) || Math.abs(Number(arg)) > 2147483647) {
    throw new ConfigError(`${where(line.file, line.line)}: Bad number "${arg}".`);
  }
  return String(Number(arg));
}

function fileList(line: ConfigLine): string[] {
  if (line.args.length === 0) throw new ConfigError(`${where(line.file, line.line)}: missing argument`);
  if (line.args.length > MAX_HOSTS_FILES) {
    throw new ConfigError(
      `${where(line.file, line.line)}: too many known hosts files (max ${MAX_HOSTS_FILES}).`,
    );
  }
  return [...line.args];
}

function sendEnv(store: OptionStore, line: ConfigLine, active: boolean): void {
  for (const arg of line.args) {
    if (arg === '' || (arg.startsWith('-') && arg.length === 1)) {
      throw new ConfigError(`${where(line.file, line.line)}: Invalid environment name.`);
    }
    if (!active) continue;
    if (arg.startsWith('-')) {
      const pattern = arg.slice(1);
      store.replace(
        'sendenv',
        (store.get('sendenv') ?? []).filter((v) => !matchPattern(v, pattern)),
      );
    } else store.append('sendenv', [arg]);
  }
}

function setEnv(store: OptionStore, line: ConfigLine, active: boolean): void {
  const values: string[] = [];
  for (const arg of line.args) {
    if (!arg.includes('=') || arg.startsWith('=')) {
      throw new ConfigError(`${where(line.file, line.line)}: Invalid SetEnv "${arg}".`);
    }
    const name = arg.slice(0, arg.indexOf('='));
    if (!values.some((v) => v.startsWith(`${name}=`))) values.push(arg);
  }
  if (active) store.setFirst('setenv', values);
}

function validateIdentityAgent(line: ConfigLine, arg: string): void {
  if (arg.startsWith('$') && !arg.startsWith('${') && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.slice(1))) {
    throw new ConfigError(`${where(line.file, line.line)}: Invalid environment name ${arg}.`);
  }
}

/** readconf.c's LocalForward/RemoteForward/DynamicForward argument handling. */
function forwardFromLine(line: ConfigLine, kw: string): Forward {
  const [arg, arg2] = line.args;
  if (arg === undefined || arg === '')
    throw new ConfigError(`${where(line.file, line.line)}: Missing argument.`);
  const remote = kw === 'remoteforward';
  let dynamic = kw === 'dynamicforward';
  let spec = arg;
  if (!dynamic) {
    if (arg2 === undefined || arg2 === '') {
      if (!remote) throw new ConfigError(`${where(line.file, line.line)}: Missing target argument.`);
      dynamic = true;
    } else spec = `${arg}:${arg2}`;
  }
  const fwd = parseForward(spec, dynamic, remote);
  if (fwd === undefined)
    throw new ConfigError(`${where(line.file, line.line)}: Bad forwarding specification.`);
  noExtra(line, kw === 'dynamicforward' ? 1 : 2);
  return fwd;
}

/** add_local_forward / add_remote_forward: duplicates are dropped; the printed lines are kept in order. */
export function addForward(store: OptionStore, list: 'L' | 'R', fwd: Forward): void {
  const key = `#forwards-${list}`;
  const id = JSON.stringify(fwd);
  if (store.get(key)?.includes(id)) return;
  store.append(key, [id]);
  if (list === 'R') {
    store.append('remoteforward', [`${formatListen(fwd)} ${formatConnect(fwd)}`]);
    return;
  }
  const printed = printedLocal(fwd);
  if (printed.dynamic !== undefined) store.append('dynamicforward', [printed.dynamic]);
  if (printed.local !== undefined) store.append('localforward', [printed.local]);
}

/**
 * Validate one directive (always: a bad value is fatal even in an inactive block, as in OpenSSH)
 * and record it in `store` when `active`. Host, Match and Include are handled by the reader.
 */
export function applyDirective(
  store: OptionStore,
  line: ConfigLine,
  active: boolean,
  warn: (message: string) => void = () => {},
): void {
  const kw = canonicalKeyword(line.keyword);
  if (!isKnownKeyword(kw)) {
    unknownKeyword(store, line);
    return;
  }
  if (IGNORED.has(kw) || DEPRECATED.has(kw)) return;
  if (UNSUPPORTED.has(kw)) {
    warn(`${where(line.file, line.line)}: Unsupported option "${kw}"`);
    return;
  }
  const set = (values: string[]) => {
    if (active) store.setFirst(kw, values);
  };
  switch (kw) {
    case 'port': {
      const arg = one(line);
      if (parsePort(arg) === undefined)
        throw new ConfigError(`${where(line.file, line.line)}: Bad port '${arg}'.`);
      set([String(parsePort(arg))]);
      return;
    }
    case 'hostname':
    case 'user':
    case 'hostkeyalias':
    case 'controlpath':
      set([one(line)]);
      return;
    case 'identityagent': {
      const arg = one(line);
      validateIdentityAgent(line, arg);
      set([arg]);
      return;
    }
    case 'identityfile': {
      const arg = one(line);
      if (!active) return;
      const list = store.get('identityfile') ?? [];
      if (list.length >= MAX_IDENTITY_FILES) {
        throw new ConfigError(
          `${where(line.file, line.line)}: too many identity files specified (max ${MAX_IDENTITY_FILES})`,
        );
      }
      if (!list.includes(arg)) store.append('identityfile', [arg]);
      return;
    }
    case 'identitiesonly':
    case 'batchmode':
    case 'checkhostip':
    case 'hashknownhosts':
      set([choice(line, FLAG)]);
      return;
    case 'compression':
      set([choice(line, { yes: 'yes', no: 'no' })]);
      return;
    case 'stricthostkeychecking':
      set([choice(line, STRICT)]);
      return;
    case 'controlmaster':
      set([choice(line, CONTROL_MASTER)]);
      return;
    case 'addressfamily':
      set([choice(line, ADDRESS_FAMILY)]);
      return;
    case 'connecttimeout':
      set([seconds(line, true)]);
      return;
    case 'serveraliveinterval':
      set([seconds(line, false)]);
      return;
    case 'serveralivecountmax':
      set([integer(line)]);
      return;
    case 'controlpersist': {
      const arg = one(line);
      const flag = FLAG[arg.toLowerCase()];
      if (flag !== undefined) {
        set([flag]);
        return;
      }
      const t = convtime(arg);
      if (t === undefined)
        throw new ConfigError(`${where(line.file, line.line)}: Bad ControlPersist argument "${arg}".`);
      set([t === 0 ? 'yes' : String(t)]);
      return;
    }
    case 'userknownhostsfile':
    case 'globalknownhostsfile':
      set(fileList(line));
      return;
    case 'ciphers':
    case 'kexalgorithms':
    case 'macs':
    case 'hostkeyalgorithms': {
      const arg = one(line);
      validateAlgorithmSpec(kw as AlgorithmKeyword, arg, where(line.file, line.line));
      set([arg]);
      return;
    }
    case 'proxyjump': {
      const arg = one(line);
      validateProxyJump(arg, where(line.file, line.line));
      // ProxyJump and ProxyCommand exclude each other: whichever comes first wins.
      if (!store.has('proxycommand')) set([arg]);
      return;
    }
    case 'proxycommand':
      if (active && !store.has('proxyjump')) store.setFirst(kw, [line.rest]);
      return;
    case 'loglevel': {
      const arg = line.args[0] ?? '';
      const level = LOG_LEVEL[arg.toUpperCase()];
      if (level === undefined) {
        throw new ConfigError(`${where(line.file, line.line)}: unsupported log level '${arg}'`);
      }
      set([level]);
      return;
    }
    case 'sendenv':
      sendEnv(store, line, active);
      return;
    case 'setenv':
      setEnv(store, line, active);
      return;
    case 'localforward':
    case 'remoteforward':
    case 'dynamicforward': {
      const fwd = forwardFromLine(line, kw);
      if (active) addForward(store, kw === 'remoteforward' ? 'R' : 'L', fwd);
      return;
    }
    case 'pubkeyacceptedalgorithms':
    case 'hostbasedacceptedalgorithms':
    case 'casignaturealgorithms': {
      const arg = one(line);
      validateAlgorithmSpec(kw, arg, where(line.file, line.line));
      set([arg]);
      return;
    }
    default: {
      const parse = VALUE_PARSERS[kw];
      if (parse !== undefined) {
        const v = parse(line);
        if (v !== undefined) set([v]);
        return;
      }
      const last = LAST_WINS[kw];
      if (last !== undefined) {
        const v = last(line);
        if (active) store.force(kw, [v]);
        return;
      }
      if (REST_OF_LINE.has(kw)) {
        set([line.rest]);
        return;
      }
      if (OTHER_ACCUMULATING.has(kw)) {
        if (active) store.append(kw, [line.args.join(' ')]);
        return;
      }
      set([line.args.join(' ')]);
    }
  }
}
