import { type Destination, parseDestination } from '../config/destination.js';
import type { CommandLineItem } from '../config/resolve-options.js';
import { ConfigError } from '../errors.js';

/** `-O` control commands sshmux implements (OpenSSH's names). */
export type ControlCommand = 'check' | 'exit' | 'stop';

/** What `sshmux ssh` was asked to do, parsed with OpenSSH's grammar. */
export interface SshArgs {
  /** Host or alias as typed, without `user@` or the `ssh://` wrapper; '' only with `-V` or `-O`. */
  destination: string;
  /** Remote command words, to be joined with spaces as ssh does; empty for none. */
  command: string[];
  /** `-p`, else the port of an `ssh://` URL (first one wins, as in OpenSSH). */
  port: number | undefined;
  /** `-l`, else `user@` of the destination (first one wins, as in OpenSSH). */
  user: string | undefined;
  identityFiles: string[];
  /** `-F file` (last one wins). */
  configFile: string | undefined;
  /** `-o Key=Value` in order given (first one wins per key, as in OpenSSH). */
  options: [string, string][];
  addressFamily: 'any' | 'inet' | 'inet6';
  /** OpenSSH's RequestTTY from -t (`yes`), -tt (`force`) and -T (`no`); the last one wins. */
  requestTty: 'auto' | 'no' | 'yes' | 'force';
  /** `-n`: stdin from /dev/null. */
  nullStdin: boolean;
  quiet: boolean;
  verbosity: number;
  /** LogLevel as -q and -v set it (ssh.c assigns it directly, so it beats the configuration). */
  logLevel: string | undefined;
  /** `-G`: print the resolved configuration and exit. */
  printConfig: boolean;
  /** `-V`: print the version and exit. */
  version: boolean;
  control: ControlCommand | undefined;
  /**
   * Everything the command line sets, in argv order, as ssh.c applies it: `-o`, `-l`, `-p` and
   * `user@` first-wins like config lines, flags such as -A/-X/-N assigned outright, -L/-R/-D forwards.
   */
  items: CommandLineItem[];
  /** Flags given that `-G` prints but sshmux cannot act on when connecting (refused then). */
  printOnly: string[];
  /** `-Q what`: print that list and exit, as ssh does at once. */
  query: string | undefined;
  /** `-E file`: ssh's log lines go there instead of stderr. */
  logFile: string | undefined;
}

/** Every option letter OpenSSH's getopt string takes a value for (`b:c:e:i:l:m:o:p:B:D:E:F:I:J:L:O:P:Q:R:S:w:W:`). */
const OPENSSH_WITH_VALUE = new Set('bceilmopBDEFIJLOQRSwW'.split(''));
/** Flags OpenSSH knows that take no value. */
const OPENSSH_FLAGS = new Set('1246afgknqstvxyACGKMNPTVXY'.split(''));
/** Flags that only turn off features sshmux never uses (X11, agent and GSSAPI forwarding): accepting them is exact. */
const NO_OP_FLAGS = new Set(['x', 'a', 'k', '2', 'P']);
/**
 * Flags ssh.c turns straight into option values (printed by -G). Those sshmux cannot honour when
 * connecting are in PRINT_ONLY and refused unless -G is given.
 */
const FORCED: Record<string, [string, string][]> = {
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
const PRINT_ONLY = new Set('AXYgKfNsMDLRWSewbBIEy'.split(''));
/** Value options that are spellings of an `-o` option. */
const AS_OPTION: Record<string, string> = { J: 'ProxyJump', c: 'Ciphers', m: 'MACs' };

const SUPPORTED =
  '-p -l -i -F -o -J -c -m -4 -6 -C -T -t -n -q -v -G -V -O -x -a -k, `--`, [user@]host, ssh://[user@]host[:port]';

/** ssh's log levels, lowest first. */
const LOG_LEVELS = ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG1', 'DEBUG2', 'DEBUG3'];

function fail(message: string): never {
  throw new ConfigError(`sshmux ssh: ${message}`);
}

/**
 * Parse ssh's command line as OpenSSH does: options (clustered or not, values attached or
 * separate), the destination, then more options until the first non-option word, which starts
 * the remote command (`ssh host -p 22 ls -l` runs `ls -l`). `--` ends options. Options
 * OpenSSH has but sshmux does not implement fail with a message naming them.
 */
export function parseSshArgs(argv: readonly string[]): SshArgs {
  tMaster = undefined;
  const out: SshArgs = {
    destination: '',
    command: [],
    port: undefined,
    user: undefined,
    identityFiles: [],
    configFile: undefined,
    options: [],
    addressFamily: 'any',
    requestTty: 'auto',
    nullStdin: false,
    quiet: false,
    verbosity: 0,
    logLevel: undefined,
    printConfig: false,
    version: false,
    control: undefined,
    items: [],
    printOnly: [],
    logFile: undefined,
    query: undefined,
  };
  let destination: string | undefined;
  let i = 0;
  let terminated = false;
  while (i < argv.length) {
    const a = argv[i]!;
    if (!terminated && a === '--') {
      terminated = true;
      i++;
      continue;
    }
    if (!terminated && a.startsWith('-') && a !== '-') {
      i = parseCluster(argv, i, out);
      if (out.version || out.query !== undefined) return out;
      continue;
    }
    if (destination !== undefined) break;
    destination = a;
    // user@ and the URL's port count from here: a -l or -p given earlier wins, a later one loses.
    applyDestination(out, destination);
    i++;
    // OpenSSH parses options again after the host, unless `--` came first.
    if (terminated) break;
  }
  out.command = argv.slice(i);
  if (destination === undefined || destination === '') {
    if (out.control !== undefined) return out;
    fail('missing destination ([user@]host or ssh://[user@]host[:port])');
  }
  return out;
}

/** Parse one `-xyz` word (and the next word when the last flag needs a value); returns the next index. */
function parseCluster(argv: readonly string[], i: number, out: SshArgs): number {
  const word = argv[i]!;
  for (let j = 1; j < word.length; j++) {
    const flag = word[j]!;
    if (OPENSSH_WITH_VALUE.has(flag)) {
      let value = word.slice(j + 1);
      let next = i + 1;
      if (value === '') {
        if (next >= argv.length) fail(`option -${flag} needs a value`);
        value = argv[next]!;
        next++;
      }
      applyValue(out, flag, value);
      return next;
    }
    if (!OPENSSH_FLAGS.has(flag)) fail(`unknown option -${flag} (supported: ${SUPPORTED})`);
    applyFlag(out, flag);
    if (out.version) return i + 1;
  }
  return i + 1;
}

function force(out: SshArgs, key: string, value: string): void {
  out.items.push({ kind: 'force', key, value });
}

function applyFlag(out: SshArgs, flag: string): void {
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

function applyValue(out: SshArgs, flag: string, value: string): void {
  if (PRINT_ONLY.has(flag)) out.printOnly.push(`-${flag}`);
  switch (flag) {
    case 'p': {
      const port = parsePort(value);
      if (port === undefined) fail(`bad port \`${value}\` for -p (expected 1-65535)`);
      out.port ??= port;
      out.items.push({ kind: 'option', key: 'Port', value });
      return;
    }
    case 'l':
      out.user ??= value;
      out.items.push({ kind: 'option', key: 'User', value });
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
      // ssh.c: a stdio forward turns the session off; -G does not print the forward itself.
      force(out, 'requesttty', 'false');
      force(out, 'sessiontype', 'none');
      // ssh.c then also sets ClearAllForwardings and ExitOnForwardFailure for a stdio forward.
      force(out, 'clearallforwardings', 'yes');
      force(out, 'exitonforwardfailure', 'yes');
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
      out.items.push({ kind: 'option', key: 'EscapeChar', value, force: true });
      return;
    case 'w':
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
        fail(`unsupported control command -O ${value} (supported: check, exit, stop)`);
      }
      out.control = value;
      return;
    default: {
      if (flag === 'J') {
        // ssh.c hands -J to parse_jump() as typed (no config-line quote removal), once only.
        if (out.items.some((i) => i.kind === 'jump')) {
          fail('Only a single -J option is permitted (use commas to separate multiple jump hops)');
        }
        out.options.push(['ProxyJump', value]);
        out.items.push({ kind: 'jump', value });
        return;
      }
      const key = AS_OPTION[flag];
      if (key) {
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

/** `[user@]host` or `ssh://[user@]host[:port]` (config/destination's rules); -l and -p given before it win, as in OpenSSH. */
function applyDestination(out: SshArgs, dest: string): void {
  let parsed: Destination;
  try {
    parsed = parseDestination(dest);
  } catch (err) {
    fail((err as Error).message);
  }
  out.destination = parsed.host;
  if (parsed.user !== undefined) out.user ??= parsed.user;
  if (parsed.port !== undefined) out.port ??= parsed.port;
  // ssh.c fills user and port from the destination only when nothing earlier set them.
  if (parsed.user !== undefined) out.items.push({ kind: 'option', key: 'User', value: parsed.user });
  if (parsed.port !== undefined) out.items.push({ kind: 'option', key: 'Port', value: String(parsed.port) });
}

/** The remote command line as ssh sends it: the words joined with single spaces. */
export function remoteCommandLine(args: Pick<SshArgs, 'command'>): string {
  return args.command.join(' ');
}
