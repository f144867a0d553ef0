import { type Destination, parseDestination } from '../config/destination.js';
import type { CommandLineItem } from '../config/resolve-options.js';
import { checkSubsystemNamed } from './session-type.js';
import {
  applyFlag,
  applyValue,
  fail,
  OPENSSH_FLAGS,
  OPENSSH_WITH_VALUE,
  resetFlagState,
  sshFail,
  usageFail,
} from './ssh-flags.js';

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

/**
 * Parse ssh's command line as OpenSSH does: options (clustered or not, values attached or
 * separate), the destination, then more options until the first non-option word, which starts
 * the remote command (`ssh host -p 22 ls -l` runs `ls -l`). `--` ends options. Options
 * OpenSSH has but sshmux does not implement fail with a message naming them.
 */
export function parseSshArgs(argv: readonly string[]): SshArgs {
  resetFlagState();
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
    usageFail();
  }
  checkSubsystemNamed(out);
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
        if (next >= argv.length) usageFail(`option requires an argument -- ${flag}`);
        value = argv[next]!;
        next++;
      }
      applyValue(out, flag, value);
      return next;
    }
    if (!OPENSSH_FLAGS.has(flag)) usageFail(`unknown option -- ${flag}`);
    applyFlag(out, flag);
    if (out.version) return i + 1;
  }
  return i + 1;
}

/** `[user@]host` or `ssh://[user@]host[:port]` (config/destination's rules); -l and -p given before it win, as in OpenSSH. */
function applyDestination(out: SshArgs, dest: string): void {
  let parsed: Destination;
  try {
    parsed = parseDestination(dest);
  } catch (err) {
    // ssh.c checks the host after parsing all options, with this fatal().
    if (/invalid characters/.test((err as Error).message))
      sshFail('hostname contains invalid characters', true);
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
