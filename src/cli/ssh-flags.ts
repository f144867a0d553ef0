import { ALL_ALGORITHMS } from '../config/algorithm-lists.js';
import { parseForward } from '../config/forward-spec.js';
import { sshConfigError } from '../config/ssh-error.js';
import { ConfigError } from '../errors.js';
import { checkSessionTypeFlag } from './session-type.js';
import type { SshArgs } from './ssh-args.js';

/** OpenSSH 9.2's option letters (ssh.c's getopt string) and what each sets, for ssh-args.ts. */

/** Every option letter OpenSSH's getopt string takes a value for (`b:c:e:i:l:m:o:p:B:D:E:F:I:J:L:O:P:Q:R:S:w:W:`). */
export const OPENSSH_WITH_VALUE = new Set('bceilmopBDEFIJLOQRSwW'.split(''));
/** Flags OpenSSH knows that take no value. */
export const OPENSSH_FLAGS = new Set('1246afgknqstvxyACGKMNPTVXY'.split(''));
/** Flags with nothing to do beyond FORCED (-a: ForwardAgent no) or that turn off what sshmux never uses (X11, GSSAPI delegation). */
export const NO_OP_FLAGS = new Set(['x', 'a', 'k', '2', 'P']);
/**
 * Flags ssh.c turns straight into option values (printed by -G). Those sshmux cannot honour when
 * connecting are in PRINT_ONLY and refused unless -G is given.
 */
export const FORCED: Record<string, [string, string][]> = {
  A: [['forwardagent', 'yes']],
  a: [['forwardagent', 'no']],
  X: [['forwardx11', 'yes']],
  x: [['forwardx11', 'no']],
  Y: [
    ['forwardx11', 'yes'],
    ['forwardx11trusted', 'yes'],
  ],
  g: [['gatewayports', 'yes']],
  k: [['gssapidelegatecredentials', 'no']],
  K: [
    ['gssapiauthentication', 'yes'],
    ['gssapidelegatecredentials', 'yes'],
  ],
  n: [['stdinnull', 'yes']],
  f: [
    ['forkafterauthentication', 'yes'],
    ['stdinnull', 'yes'],
  ],
  N: [
    ['sessiontype', 'none'],
    ['requesttty', 'false'],
  ],
  s: [['sessiontype', 'subsystem']],
  T: [['requesttty', 'false']],
  C: [['compression', 'yes']],
  '4': [['addressfamily', 'inet']],
  '6': [['addressfamily', 'inet6']],
};
export const PRINT_ONLY = new Set('XYKMSwIEy'.split(''));
/** Value options that are spellings of an `-o` option. */
export const AS_OPTION: Record<string, string> = { J: 'ProxyJump', c: 'Ciphers', m: 'MACs' };

/** ssh's log levels, lowest first. */
export const LOG_LEVELS = ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG1', 'DEBUG2', 'DEBUG3'];

/** ssh.c's own words for a bad argument: fprintf'd (`\n`), or fatal() (`\r\n`, as log.c ends lines). */
export function sshFail(message: string, fatal = false): never {
  throw sshConfigError(message, fatal ? {} : { plain: true });
}

export function validEscapeChar(v: string): boolean {
  // One byte, as ssh's strlen() == 1: a character that UTF-8 encodes in more is refused.
  if (v === 'none' || Buffer.byteLength(v) === 1) return true;
  return v.length === 2 && v[0] === '^' && v.charCodeAt(1) >= 64 && v.charCodeAt(1) < 128;
}

export function knownNames(kind: 'ciphers' | 'macs', list: string): boolean {
  return list !== '' && list.split(',').every((n) => ALL_ALGORITHMS[kind].includes(n));
}

export const SUPPORTED =
  '-p -l -i -F -o -J -c -m -4 -6 -C -T -t -n -N -s -f -q -v -G -V -O -x -a -k, `--`, [user@]host, ssh://[user@]host[:port]';

/** ssh.c's usage(), word for word (fprintf'd to stderr). */
export const SSH_USAGE = `usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface]
           [-b bind_address] [-c cipher_spec] [-D [bind_address:]port]
           [-E log_file] [-e escape_char] [-F configfile] [-I pkcs11]
           [-i identity_file] [-J [user@]host[:port]] [-L address]
           [-l login_name] [-m mac_spec] [-O ctl_cmd] [-o option] [-p port]
           [-Q query_option] [-R address] [-S ctl_path] [-W host:port]
           [-w local_tun[:remote_tun]] destination [command [argument ...]]`;

/**
 * A command line ssh's getopt rejects: getopt's own line (`unknown option -- Z`, which glibc
 * writes with `\r\n` here because ssh has set up its log by then), then the usage text; 255.
 */
export function usageFail(getoptLine?: string): never {
  throw sshConfigError(`${getoptLine === undefined ? '' : `${getoptLine}\r\n`}${SSH_USAGE}`, { plain: true });
}

export function fail(message: string): never {
  throw new ConfigError(`sshmux ssh: ${message}`);
}

function force(out: SshArgs, key: string, value: string): void {
  out.items.push({ kind: 'force', key, value });
}

export function applyFlag(out: SshArgs, flag: string): void {
  if (flag === '1') sshFail('SSH protocol v.1 is no longer supported', true);
  checkSessionTypeFlag(out, flag);
  for (const [key, value] of FORCED[flag] ?? []) force(out, key, value);
  if (PRINT_ONLY.has(flag)) out.printOnly.push(`-${flag}`);
  switch (flag) {
    case '4':
      out.addressFamily = 'inet';
      return;
    case '6':
      out.addressFamily = 'inet6';
      return;
    case 'C':
      out.options.push(['Compression', 'yes']);
      return;
    case 'N':
    case 's':
    case 'f':
    case 'A':
    case 'X':
    case 'Y':
    case 'g':
    case 'K':
    case 'y':
    case '2':
    case 'P':
      return;
    case 'T':
      out.requestTty = 'no';
      return;
    case 't':
      out.requestTty = out.requestTty === 'yes' || out.requestTty === 'force' ? 'force' : 'yes';
      force(out, 'requesttty', out.requestTty === 'force' ? 'force' : 'true');
      return;
    case 'M':
      tMaster = tMaster === 'true' ? 'ask' : 'true';
      force(out, 'controlmaster', tMaster);
      return;
    case 'n':
      out.nullStdin = true;
      return;
    case 'q':
      out.quiet = true;
      out.logLevel = 'QUIET';
      return;
    case 'v': {
      // ssh.c: the first -v sets DEBUG1, each later one raises whatever the level is by one, up to DEBUG3.
      const at = out.logLevel === undefined ? -1 : LOG_LEVELS.indexOf(out.logLevel);
      out.logLevel = out.verbosity === 0 ? 'DEBUG1' : LOG_LEVELS[Math.min(at + 1, LOG_LEVELS.length - 1)];
      out.verbosity++;
      return;
    }
    case 'G':
      out.printConfig = true;
      return;
    case 'V':
      out.version = true;
      return;
    default:
      if (NO_OP_FLAGS.has(flag)) return;
      fail(`option -${flag} is not supported by sshmux (supported: ${SUPPORTED})`);
  }
}

// -M toggles with the previous -M (yes, then ask), within one command line.
let tMaster: string | undefined;

/** Forget the -M toggle of a previous command line. */
export function resetFlagState(): void {
  tMaster = undefined;
}

export function applyValue(out: SshArgs, flag: string, value: string): void {
  if (PRINT_ONLY.has(flag)) out.printOnly.push(`-${flag}`);
  switch (flag) {
    case 'p': {
      // ssh.c looks at -p only while no port is set: a later -p is ignored, even a bad one.
      if (out.port !== undefined) return;
      const port = parsePort(value);
      if (port === undefined) sshFail(`Bad port '${value}'`);
      out.port = port;
      out.items.push({ kind: 'option', key: 'Port', value });
      return;
    }
    case 'l':
      // ssh.c assigns -l as given (no parsing: spaces, even an empty name), unless already set.
      out.user ??= value;
      out.items.push({ kind: 'first', key: 'user', value });
      return;
    case 'i':
      out.identityFiles.push(value);
      out.items.push({ kind: 'identity', file: value });
      return;
    case 'L':
    case 'R':
    case 'D':
      out.items.push({ kind: 'forward', type: flag, spec: value });
      return;
    case 'W':
      if (out.items.some((i) => i.kind === 'force' && i.key === '#stdioforward'))
        sshFail('stdio forward already specified', true);
      if (out.control !== undefined) sshFail('Cannot specify stdio forward with -O', true);
      if (parseForward(value, true, false) === undefined)
        sshFail(`Bad stdio forwarding specification '${value}'`);
      // ssh.c: a stdio forward turns the session off; -G does not print the forward itself.
      force(out, 'requesttty', 'false');
      force(out, 'sessiontype', 'none');
      // ClearAllForwardings and ExitOnForwardFailure then default to yes (build-host-config.ts).
      force(out, '#stdioforward', value);
      return;
    case 'S':
      force(out, 'controlpath', value);
      return;
    case 'b':
      force(out, 'bindaddress', value);
      return;
    case 'B':
      force(out, 'bindinterface', value);
      return;
    case 'I':
      force(out, 'pkcs11provider', value);
      return;
    case 'e':
      if (!validEscapeChar(value)) sshFail(`Bad escape character '${value}'.`);
      out.items.push({ kind: 'option', key: 'EscapeChar', value, force: true });
      return;
    case 'w':
      if (!/^(any|[0-9]+)(:(any|[0-9]+))?$/.test(value)) sshFail(`Bad tun device '${value}'`);
      out.items.push({ kind: 'option', key: 'TunnelDevice', value, force: true });
      out.items.push({ kind: 'option', key: 'Tunnel', value: 'yes' });
      return;
    case 'E':
      out.logFile = value;
      return;
    case 'Q':
      out.query = value;
      return;
    case 'F':
      out.configFile = value;
      return;
    case 'o': {
      // The text goes to the config-line parser as is, so a bad -o fails with readconf.c's words.
      const m = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(value);
      if (m && m[2] !== '') out.options.push([m[1]!, m[2]!]);
      out.items.push({ kind: 'line', text: value });
      return;
    }
    case 'O':
      if (value !== 'check' && value !== 'exit' && value !== 'stop') {
        if (!['forward', 'cancel', 'proxy'].includes(value)) sshFail('Invalid multiplex command.', true);
        fail(`control command -O ${value} is not supported by sshmux (supported: check, exit, stop)`);
      }
      out.control = value;
      return;
    default: {
      if (flag === 'J') {
        // ssh.c hands -J to parse_jump() as typed (no config-line quote removal), once only.
        if (out.items.some((i) => i.kind === 'jump')) {
          sshFail('Only a single -J option is permitted (use commas to separate multiple jump hops)', true);
        }
        out.options.push(['ProxyJump', value]);
        out.items.push({ kind: 'jump', value });
        return;
      }
      const key = AS_OPTION[flag];
      if (key) {
        // ssh.c's ciphers_valid()/mac_valid(): every name known; -c may start with + or ^, -m not.
        if (flag === 'c' && !knownNames('ciphers', value.replace(/^[+^]/, ''))) {
          sshFail(`Unknown cipher type '${value}'`);
        }
        if (flag === 'm' && !knownNames('macs', value)) sshFail(`Unknown mac type '${value}'`);
        out.options.push([key, value]);
        // -J, -c and -m assign outright in ssh.c; a later -o cannot undo them.
        out.items.push({ kind: 'option', key, value, force: true });
        return;
      }
      fail(`option -${flag} is not supported by sshmux (supported: ${SUPPORTED})`);
    }
  }
}

function parsePort(value: string): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const port = Number(value);
  return port >= 1 && port <= 65535 ? port : undefined;
}
