import { ConfigError } from '../errors.js';
import { type AlgorithmKeyword, validateAlgorithmSpec } from './algorithm-lists.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { convtime } from './convtime.js';
import { parsePort } from './destination.js';
import { sendEnv, setEnv, validateIdentityAgent } from './env-directives.js';
import { addForward, forwardFromLine } from './forward-directive.js';
import {
  canonicalKeyword,
  DEPRECATED,
  IGNORED,
  isKnownKeyword,
  OTHER_ACCUMULATING,
  REST_OF_LINE,
  UNSUPPORTED,
} from './keyword-names.js';
import { integer, LAST_WINS, VALUE_PARSERS } from './keyword-values.js';
import { logLevel } from './log-level.js';
import type { OptionStore } from './option-store.js';
import { matchPatternList } from './pattern.js';
import { cleanJump, proxyJumpProblem } from './proxy-jump.js';

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
const MAX_IDENTITY_FILES = 100;
const MAX_HOSTS_FILES = 16;

export { addForward } from './forward-directive.js';
export { canonicalKeyword, isKnownKeyword, SUPPORTED_KEYWORDS } from './keyword-names.js';

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
    // An empty argument (`User ""`); a missing one was refused by the lexer already.
    throw new ConfigError(`${where(line.file, line.line)}: Missing argument.`);
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
  if (line.args[0] === '') throw new ConfigError(`${where(line.file, line.line)}: missing time value.`);
  const arg = one(line);
  if (allowNone && arg === 'none') return 'none';
  const t = convtime(arg);
  if (t === undefined) throw new ConfigError(`${where(line.file, line.line)}: invalid time value.`);
  return String(t);
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
      if (line.args[0] === '') throw new ConfigError(`${where(line.file, line.line)}: Missing argument.`);
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
    case 'serveraliveinterval': {
      // parse_time: `none` leaves it unset, so a later line still sets it.
      const t = seconds(line, true);
      if (t !== 'none') set([t]);
      return;
    }
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
        throw new ConfigError(`${where(line.file, line.line)}: Bad ControlPersist argument.`);
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
      // ssh 9.2 hands parse_jump() the first blank-delimited word as typed (quotes kept), and
      // parse_jump() cuts a `#` comment; -o values are checked strictly, as ssh's `cmdline` asks.
      const arg = cleanJump(line.rest.split(/[ \t\r\n\f]/)[0]!);
      const problem = proxyJumpProblem(arg, line.file === 'command-line');
      if (problem !== undefined) {
        throw new ConfigError(
          `${problem === '' ? '' : `${problem}\n`}${where(line.file, line.line)}: Invalid ProxyJump "${line.rest}"`,
        );
      }
      // ProxyJump and ProxyCommand exclude each other: whichever comes first wins.
      if (!store.has('proxycommand')) set([arg]);
      return;
    }
    case 'proxycommand':
      if (active && !store.has('proxyjump')) store.setFirst(kw, [line.rest]);
      return;
    case 'loglevel':
      set([logLevel(line)]);
      return;
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
        if (kw === 'certificatefile') {
          if ((line.args[0] ?? '') === '')
            throw new ConfigError(`${where(line.file, line.line)}: Missing argument.`);
          // ssh adds the first file, then refuses the rest of the line.
          if (active) store.append(kw, [line.args[0]!]);
          if (line.args.length > 1) {
            throw new ConfigError(
              `${where(line.file, line.line)}: keyword ${kw} extra arguments at end of line`,
            );
          }
          return;
        }
        if (active) store.append(kw, [line.args.join(' ')]);
        return;
      }
      set([line.args.join(' ')]);
    }
  }
}
