import { KEYWORD_SUPPORT } from '../config/keyword-support.js';
import type { CommandSpec, OptionSpec, WordKind } from './completion-spec.js';

/** What the shell should offer: candidates (with a description after a tab), and whether to add files. */
export interface Completion {
  readonly candidates: readonly string[];
  /** Let the shell add local file names (it knows their quoting and directories). */
  readonly files: boolean;
  /** Put no space after a candidate (`host:` goes on with a path). */
  readonly nospace: boolean;
}

/** Host aliases for completion, from `-F` when the command line gave one. */
export type HostSource = (configFile: string | undefined) => readonly string[];

const NONE: Completion = Object.freeze({ candidates: [], files: false, nospace: false });

function find(spec: CommandSpec, flag: string): OptionSpec | undefined {
  return spec.options.find((o) => o.flags.includes(flag));
}

/** The option that takes the next word as its value, or undefined; `-Fvalue`/`--x=value` carry their own. */
function optionWord(
  spec: CommandSpec,
  word: string,
  onConfig: (file: string) => void,
): OptionSpec | undefined {
  if (spec.getopt || !word.startsWith('--')) {
    // getopt(3) clusters (`-vF file`, `-Ffile`); commander reads `-Ffile` the same way.
    for (let j = 1; j < word.length; j++) {
      const opt = find(spec, `-${word[j]}`);
      if (opt?.value === undefined) {
        if (!spec.getopt) return undefined;
        continue;
      }
      if (j === word.length - 1) return opt;
      if (word[j] === 'F') onConfig(word.slice(j + 1));
      return undefined;
    }
    return undefined;
  }
  const eq = word.indexOf('=');
  if (eq !== -1) return undefined;
  const opt = find(spec, word);
  return opt?.value === undefined ? undefined : opt;
}

function described(name: string, description: string): string {
  return description === '' ? name : `${name}\t${description.split('\n')[0]}`;
}

function byKind(
  kind: WordKind | readonly string[] | undefined,
  cur: string,
  hosts: () => readonly string[],
): Completion {
  if (Array.isArray(kind))
    return { candidates: kind.filter((w) => w.startsWith(cur)), files: false, nospace: false };
  switch (kind) {
    case 'host': {
      // `user@host`: complete the host part, keep the user.
      const at = cur.lastIndexOf('@');
      const prefix = at === -1 ? '' : cur.slice(0, at + 1);
      const rest = cur.slice(at + 1);
      return {
        candidates: hosts()
          .filter((h) => h.startsWith(rest))
          .map((h) => prefix + h),
        files: false,
        nospace: false,
      };
    }
    case 'remote':
    case 'copy': {
      const local = kind === 'copy';
      // A remote path would need a connection: not completed.
      if (cur.includes(':')) return NONE;
      const at = cur.lastIndexOf('@');
      const prefix = at === -1 ? '' : cur.slice(0, at + 1);
      const rest = cur.slice(at + 1);
      const remote = hosts()
        .filter((h) => h.startsWith(rest))
        .map((h) => `${prefix}${h}:`);
      return { candidates: remote, files: local && at === -1, nospace: true };
    }
    case 'option': {
      // `-o Keyword=`: OpenSSH's spelling of every keyword sshmux reads; the value is the user's.
      if (cur.includes('=')) return NONE;
      const lower = cur.toLowerCase();
      const names = Object.values(KEYWORD_SUPPORT)
        .map((k) => k.name)
        // ssh refuses these as -o options.
        .filter((n) => n !== 'Host' && n !== 'Match' && n !== 'Include')
        .filter((n) => n.toLowerCase().startsWith(lower))
        .map((n) => `${n}=`);
      return { candidates: names, files: false, nospace: true };
    }
    case 'file':
      return { candidates: [], files: true, nospace: false };
    default:
      return NONE;
  }
}

/**
 * Complete the last of `words` (the words after `sshmux`; the last is the one being typed) from a
 * program's grammar: subcommands, options, option values and operands (hosts from ssh_config).
 */
export function completeWords(
  root: CommandSpec,
  words: readonly string[],
  hostSource: HostSource,
): Completion {
  const cur = words.at(-1) ?? '';
  let spec = root;
  let operands = 0;
  let endOfOptions = false;
  let pending: OptionSpec | undefined;
  let configFile: string | undefined;
  const setConfig = (f: string) => {
    configFile = f;
  };
  for (const w of words.slice(0, -1)) {
    if (pending !== undefined) {
      if (pending.flags.includes('-F')) configFile = w;
      pending = undefined;
      continue;
    }
    const optionsOver = endOfOptions || (spec.getopt && operands > 0);
    if (!optionsOver && w === '--') {
      endOfOptions = true;
      continue;
    }
    if (!optionsOver && w.startsWith('-') && w !== '-') {
      pending = optionWord(spec, w, setConfig);
      continue;
    }
    const sub = operands === 0 ? spec.commands.find((c) => c.name === w) : undefined;
    if (sub !== undefined) {
      spec = sub;
      endOfOptions = false;
      continue;
    }
    operands++;
  }
  const hosts = () => hostSource(configFile);
  if (pending !== undefined) return byKind(pending.value, cur, hosts);
  const optionsOver = endOfOptions || (spec.getopt && operands > 0);
  if (!optionsOver && cur.startsWith('-')) {
    const out: string[] = [];
    for (const o of spec.options)
      for (const f of o.flags) if (f.startsWith(cur)) out.push(described(f, o.description));
    return { candidates: out, files: false, nospace: false };
  }
  if (operands === 0 && spec.commands.length > 0) {
    const subs = spec.commands
      .filter((c) => c.name.startsWith(cur))
      .map((c) => described(c.name, c.description));
    return { candidates: subs, files: false, nospace: false };
  }
  const kind = spec.operands[operands] ?? (spec.variadic ? spec.operands.at(-1) : undefined);
  return byKind(kind, cur, hosts);
}

/** The wire form the scripts read: one candidate per line, then `:files,nospace` (or `:`). */
export function formatCompletion(c: Completion): string {
  const directive = [c.files && 'files', c.nospace && 'nospace'].filter(Boolean).join(',');
  return `${[...c.candidates, `:${directive}`].join('\n')}\n`;
}
