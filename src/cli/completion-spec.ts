import type { Argument, Command } from 'commander';
import { SHELLS } from './completion-scripts.js';
import { SCP_FLAGS, SCP_WITH_VALUE } from './scp-args.js';
import { SFTP_FLAGS, SFTP_WITH_VALUE } from './sftp-args.js';
import { OPENSSH_FLAGS, OPENSSH_WITH_VALUE } from './ssh-flags.js';

/** What a word in some position completes to. */
/**
 * `remote` is `host:PATH` only; `copy` is `host:PATH` or a local file (scp's operands); `option`
 * an ssh_config `Keyword=` (the value of `-o`).
 */
export type WordKind = 'host' | 'remote' | 'copy' | 'option' | 'file' | 'word';

/** One option as completion sees it. */
export interface OptionSpec {
  /** `-F`, `--json`… (every spelling). */
  readonly flags: readonly string[];
  /** What its value is; undefined for a flag without one. */
  readonly value: WordKind | undefined;
  readonly description: string;
}

/** One command (or subcommand) as completion sees it. */
export interface CommandSpec {
  readonly name: string;
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** What each operand is (a kind, or the words it may be); the last one repeats when `variadic`. */
  readonly operands: readonly (WordKind | readonly string[])[];
  readonly variadic: boolean;
  /** getopt(3) grammar (ssh, scp, sftp): short flags cluster, options end at the first operand. */
  readonly getopt: boolean;
  readonly commands: readonly CommandSpec[];
}

function kindOfValue(placeholder: string): WordKind {
  if (/<option>/.test(placeholder)) return 'option';
  if (/file|dir|path|batch|key|config|log/i.test(placeholder)) return 'file';
  if (/dest|host|jump/i.test(placeholder)) return 'host';
  return 'word';
}

/** Arguments whose words are a fixed set that commander cannot check (`completion` also takes words). */
const OPERAND_CHOICES: Record<string, readonly string[]> = { completion: SHELLS };

/** `dest` is a host; `dest:PATH`, `a:SNAPSHOT` a remote path; `local`, `snapshot`, `dir` local files. */
function kindOfArgument(cmd: Command, arg: Argument): WordKind | readonly string[] {
  const choices = arg.argChoices ?? OPERAND_CHOICES[cmd.name()];
  if (choices !== undefined) return choices;
  const name = arg.name();
  if (/^[a-z]+:/i.test(name)) return 'remote';
  if (/^(dest|destination|host)$/i.test(name)) return 'host';
  return 'file';
}

/** ssh's option letters (ssh-flags.ts) and what their values are. */
const SSH_VALUE_KIND: Record<string, WordKind> = {
  F: 'file',
  i: 'file',
  E: 'file',
  S: 'file',
  J: 'host',
  o: 'option',
};
/** scp's and sftp's. */
const COPY_VALUE_KIND: Record<string, WordKind> = {
  F: 'file',
  i: 'file',
  S: 'file',
  b: 'file',
  J: 'host',
  o: 'option',
};

function getoptOptions(
  withValue: ReadonlySet<string>,
  flags: ReadonlySet<string>,
  kinds: Record<string, WordKind>,
): OptionSpec[] {
  const letters = [...new Set([...withValue, ...flags])].sort();
  return letters.map((l) => ({
    flags: [`-${l}`],
    value: withValue.has(l) ? (kinds[l] ?? 'word') : undefined,
    description: '',
  }));
}

/** The getopt commands commander only names: their grammar comes from their own option tables. */
const GETOPT: Record<string, () => Pick<CommandSpec, 'options' | 'operands' | 'variadic'>> = {
  ssh: () => ({
    options: getoptOptions(OPENSSH_WITH_VALUE, OPENSSH_FLAGS, SSH_VALUE_KIND),
    operands: ['host', 'word'],
    variadic: true,
  }),
  scp: () => ({
    options: getoptOptions(SCP_WITH_VALUE, SCP_FLAGS, COPY_VALUE_KIND),
    operands: ['copy'],
    variadic: true,
  }),
  sftp: () => ({
    options: getoptOptions(SFTP_WITH_VALUE, SFTP_FLAGS, COPY_VALUE_KIND),
    operands: ['host'],
    variadic: false,
  }),
};

/** The completion grammar of a commander program: its commands, options and arguments, as defined. */
export function commandSpec(cmd: Command, isRoot = true): CommandSpec {
  const getopt = isRoot ? undefined : GETOPT[cmd.name()];
  const options: OptionSpec[] = cmd.options
    .filter((o) => !o.hidden)
    .map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => typeof f === 'string'),
      value: o.required || o.optional ? kindOfValue(o.flags) : undefined,
      description: o.description,
    }));
  // commander's own --help, which it adds lazily.
  if (!options.some((o) => o.flags.includes('--help')))
    options.push({ flags: ['-h', '--help'], value: undefined, description: 'display help for command' });
  if (getopt !== undefined) {
    return { name: cmd.name(), description: cmd.description(), getopt: true, commands: [], ...getopt() };
  }
  const args = cmd.registeredArguments;
  return {
    name: cmd.name(),
    description: cmd.description(),
    options,
    operands: args.map((a) => kindOfArgument(cmd, a)),
    variadic: args.at(-1)?.variadic ?? false,
    getopt: false,
    commands: cmd.commands.filter((c) => c.name() !== 'help').map((c) => commandSpec(c, false)),
  };
}
