import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { convtime } from './convtime.js';
import { ipqos, rekeyLimit } from './network-values.js';

/**
 * Value parsers for the keywords sshmux keeps as OpenSSH 9.2 prints them: each validates its
 * arguments with readconf.c's rules and messages and returns the `ssh -G` text of the value.
 */
export type ValueParser = (line: ConfigLine) => string;

function at(line: ConfigLine): string {
  return where(line.file, line.line);
}

function fail(line: ConfigLine, message: string): never {
  throw new ConfigError(`${at(line)}: ${message}`);
}

/** readconf.c's closing check: arguments left over after the value. */
export function noExtra(line: ConfigLine, used: number): void {
  if (line.args.length > used) fail(line, `keyword ${line.keyword} extra arguments at end of line`);
}

/** parse_flag / parse_multistate: the table maps accepted words to the printed word (fmt_intarg). */
function multistate(table: Record<string, string>): ValueParser {
  return (line) => {
    const arg = line.args[0];
    if (arg === undefined || arg === '') fail(line, 'missing argument.');
    const v = table[arg.toLowerCase()];
    if (v === undefined) fail(line, `unsupported option "${arg}".`);
    noExtra(line, 1);
    return v;
  };
}

const YES_NO = { true: 'yes', yes: 'yes', false: 'no', no: 'no' };
const flag = multistate(YES_NO);
const yesNoAsk = multistate({ true: 'true', yes: 'true', false: 'false', no: 'false', ask: 'ask' });

/** parse_int: atoi_err(), i.e. strtonum(arg, 0, INT_MAX): empty, not a number, negative or too large. */
export function integer(line: ConfigLine): string {
  const arg = line.args[0] ?? '';
  let err: string | undefined;
  if (arg === '') err = 'missing';
  else if (!/^[-+]?[0-9]+$/.test(arg.trim()) || arg !== arg.trimEnd()) err = 'invalid';
  else if (Number(arg) > 2147483647) err = 'too large';
  else if (Number(arg) < 0) err = 'too small';
  if (err !== undefined) fail(line, `integer value ${err}.`);
  noExtra(line, 1);
  return String(Number(arg));
}

/** parse_time: `none` is accepted and means unset (ssh prints the default). */
function time(line: ConfigLine): string | undefined {
  const arg = line.args[0];
  if (arg === undefined || arg === '') fail(line, 'missing time value.');
  noExtra(line, 1);
  if (arg === 'none') return undefined;
  const t = convtime(arg);
  if (t === undefined) fail(line, 'invalid time value.');
  return String(t);
}

function str(line: ConfigLine): string {
  const arg = line.args[0];
  if (arg === undefined || arg === '') fail(line, 'Missing argument.');
  noExtra(line, 1);
  return arg;
}

/** ssh -G prints the character through vis(3): a control character as `\^X`. */
function escapeChar(line: ConfigLine): string {
  const arg = str(line);
  if (arg === 'none') return arg;
  let code: number;
  if (Buffer.byteLength(arg) === 1) code = arg.charCodeAt(0);
  else if (arg.length === 2 && arg[0] === '^' && arg.charCodeAt(1) >= 64 && arg.charCodeAt(1) < 128) {
    code = arg.charCodeAt(1) & 31;
  } else fail(line, 'Bad escape character.');
  if (code < 32) return `\\^${String.fromCharCode(code + 64)}`;
  if (code === 127) return '\\^?';
  return String.fromCharCode(code);
}

function fingerprintHash(line: ConfigLine): string {
  const arg = str(line);
  const name = { md5: 'MD5', sha1: 'SHA1', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' }[
    arg.toLowerCase()
  ];
  if (name === undefined) fail(line, `Invalid hash algorithm "${arg}".`);
  return name;
}

function streamLocalBindMask(line: ConfigLine): string {
  const arg = line.args[0];
  if (arg === undefined || arg === '') fail(line, 'Missing StreamLocalBindMask argument.');
  const m = /^[0-7]+/.exec(arg);
  if (!m || Number.parseInt(m[0], 8) > 0o777) fail(line, 'Bad mask.');
  noExtra(line, 1);
  return `0${Number.parseInt(m[0], 8).toString(8)}`;
}

function addKeysToAgent(line: ConfigLine): string {
  const [arg, arg2] = line.args;
  const table: Record<string, string> = {
    true: 'true',
    yes: 'true',
    false: 'false',
    no: 'false',
    ask: 'ask',
    confirm: 'confirm',
  };
  if (arg === undefined || arg === '') fail(line, 'missing argument.');
  const v = table[arg.toLowerCase()];
  if (v === 'confirm' && arg2 !== undefined) {
    const t = convtime(arg2);
    if (t === undefined) fail(line, 'invalid time value.');
    noExtra(line, 2);
    return `confirm ${t}`;
  }
  if (v === undefined && arg2 === undefined) {
    const t = convtime(arg);
    if (t === undefined) fail(line, 'unsupported option');
    return t === 0 ? 'true' : String(t);
  }
  if (v === undefined || arg2 !== undefined) fail(line, 'unsupported option');
  return v;
}

function tunnelDevice(line: ConfigLine): string {
  const arg = str(line);
  const part = (p: string | undefined): string | undefined => {
    if (p === undefined || p === 'any') return 'any';
    return /^[0-9]+$/.test(p) && Number(p) <= 0x7fffffff - 2 ? String(Number(p)) : undefined;
  };
  const [a, b, extra] = arg.split(':');
  const local = part(a);
  const remote = part(b);
  if (extra !== undefined || local === undefined || remote === undefined) fail(line, 'Bad tun device.');
  return `${local}:${remote}`;
}

const SYSLOG_FACILITIES = new Set(
  'DAEMON USER AUTH AUTHPRIV LOCAL0 LOCAL1 LOCAL2 LOCAL3 LOCAL4 LOCAL5 LOCAL6 LOCAL7'.split(' '),
);

function syslogFacility(line: ConfigLine): string {
  const arg = line.args[0] ?? '';
  const name = arg.toUpperCase();
  if (!SYSLOG_FACILITIES.has(name)) fail(line, `unsupported log facility '${arg || '<NONE>'}'`);
  return name;
}

/** Keywords whose value is one `ssh -G` word (or pair), by readconf.c's parser for them. */
export const VALUE_PARSERS: Readonly<Record<string, (line: ConfigLine) => string | undefined>> = {
  // parse_flag: printed yes/no.
  ...Object.fromEntries(
    `forwardx11 forwardx11trusted gatewayports exitonforwardfailure passwordauthentication
    kbdinteractiveauthentication hostbasedauthentication gssapiauthentication gssapidelegatecredentials
    gssapikeyexchange gssapitrustdns gssapirenewalforcesrekey tcpkeepalive nohostauthenticationforlocalhost
    clearallforwardings enablesshkeysign permitlocalcommand visualhostkey stdinnull forkafterauthentication
    proxyusefdpass canonicalizefallbacklocal streamlocalbindunlink enableescapecommandline`
      .split(/\s+/)
      .map((k) => [k, flag]),
  ),
  pubkeyauthentication: multistate({
    true: 'true',
    yes: 'true',
    false: 'false',
    no: 'false',
    unbound: 'unbound',
    'host-bound': 'host-bound',
  }),
  verifyhostkeydns: yesNoAsk,
  updatehostkeys: yesNoAsk,
  // yes/true mean SSH_TUNMODE_DEFAULT, which is point-to-point, and fmt_intarg prints the first name.
  tunnel: multistate({
    ethernet: 'ethernet',
    'point-to-point': 'point-to-point',
    true: 'point-to-point',
    yes: 'point-to-point',
    false: 'false',
    no: 'false',
  }),
  requesttty: multistate({
    true: 'true',
    yes: 'true',
    false: 'false',
    no: 'false',
    force: 'force',
    auto: 'auto',
  }),
  sessiontype: multistate({ none: 'none', subsystem: 'subsystem', default: 'default' }),
  canonicalizehostname: multistate({
    true: 'true',
    yes: 'true',
    false: 'false',
    no: 'false',
    always: 'always',
  }),
  numberofpasswordprompts: integer,
  connectionattempts: integer,
  canonicalizemaxdots: integer,
  requiredrsasize: integer,
  forwardx11timeout: time,
  xauthlocation: str,
  preferredauthentications: str,
  bindaddress: str,
  bindinterface: str,
  pkcs11provider: str,
  securitykeyprovider: str,
  revokedhostkeys: str,
  kbdinteractivedevices: str,
  ignoreunknown: str,
  gssapikexalgorithms: str,
  gssapiclientidentity: str,
  gssapiserveridentity: str,
  ipqos,
  rekeylimit: rekeyLimit,
  escapechar: escapeChar,
  fingerprinthash: fingerprintHash,
  addkeystoagent: addKeysToAgent,
  tunneldevice: tunnelDevice,
  syslogfacility: syslogFacility,
};

/** StreamLocalBindMask is assigned on every active line (readconf.c has no "first wins" for it). */
export const LAST_WINS: Readonly<Record<string, ValueParser>> = { streamlocalbindmask: streamLocalBindMask };
