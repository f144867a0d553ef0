import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { type Forward, formatConnect, formatListen, parseForward, printedLocal } from './forward-spec.js';
import { noExtra } from './keyword-values.js';
import type { OptionStore } from './option-store.js';

/** readconf.c's LocalForward/RemoteForward/DynamicForward argument handling. */
export function forwardFromLine(line: ConfigLine, kw: string): Forward {
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
