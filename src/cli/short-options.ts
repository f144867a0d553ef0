/**
 * getopt(3) as scp and sftp use it: clustered flags (`-rp`), values attached or in the next
 * word (`-P22`, `-P 22`), options up to the first operand or `--`. Returns where the operands
 * start; `usage` is called (and must throw) for an unknown flag or a missing value.
 */
export function readShortOptions(
  argv: readonly string[],
  spec: {
    readonly withValue: ReadonlySet<string>;
    readonly flags: ReadonlySet<string>;
    readonly onValue: (flag: string, value: string) => void;
    readonly onFlag: (flag: string) => void;
    readonly usage: (why: string) => never;
  },
): number {
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return i + 1;
    if (!word.startsWith('-') || word === '-') break;
    for (let j = 1; j < word.length; j++) {
      const flag = word[j]!;
      if (spec.withValue.has(flag)) {
        let value = word.slice(j + 1);
        if (value === '') {
          if (i + 1 >= argv.length) spec.usage(`option requires an argument -- ${flag}`);
          value = argv[++i]!;
        }
        spec.onValue(flag, value);
        break;
      }
      if (!spec.flags.has(flag)) spec.usage(`unknown option -- ${flag}`);
      spec.onFlag(flag);
    }
  }
  return i;
}
