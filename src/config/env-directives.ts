import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import type { OptionStore } from './option-store.js';
import { matchPattern } from './pattern.js';

/** SendEnv (with `-pattern` removal), SetEnv (first line wins whole) and IdentityAgent's `$NAME` check. */
export function sendEnv(store: OptionStore, line: ConfigLine, active: boolean): void {
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

export function setEnv(store: OptionStore, line: ConfigLine, active: boolean): void {
  const values: string[] = [];
  for (const arg of line.args) {
    if (!arg.includes('=')) {
      throw new ConfigError(`${where(line.file, line.line)}: Invalid SetEnv.`);
    }
    const name = arg.slice(0, arg.indexOf('='));
    if (!values.some((v) => v.startsWith(`${name}=`))) values.push(arg);
  }
  if (active) store.setFirst('setenv', values);
}

export function validateIdentityAgent(line: ConfigLine, arg: string): void {
  if (arg.startsWith('$') && !arg.startsWith('${') && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.slice(1))) {
    throw new ConfigError(`${where(line.file, line.line)}: Invalid environment name ${arg}.`);
  }
}
