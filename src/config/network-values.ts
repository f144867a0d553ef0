import { ConfigError } from '../errors.js';
import type { ConfigLine } from './config-lexer.js';
import { where } from './config-lexer.js';
import { convtime } from './convtime.js';

/** IPQoS and RekeyLimit as readconf.c parses them and ssh -G prints them. */

function fail(line: ConfigLine, message: string): never {
  throw new ConfigError(`${where(line.file, line.line)}: ${message}`);
}

function noExtra(line: ConfigLine, used: number): void {
  if (line.args.length > used) fail(line, `keyword ${line.keyword} extra arguments at end of line`);
}

// misc.c's ipqos[] table (DSCP and legacy TOS names → values).
const IPQOS: Record<string, number> = {
  af11: 0x28,
  af12: 0x30,
  af13: 0x38,
  af21: 0x48,
  af22: 0x50,
  af23: 0x58,
  af31: 0x68,
  af32: 0x70,
  af33: 0x78,
  af41: 0x88,
  af42: 0x90,
  af43: 0x98,
  cs0: 0x00,
  cs1: 0x20,
  cs2: 0x40,
  cs3: 0x60,
  cs4: 0x80,
  cs5: 0xa0,
  cs6: 0xc0,
  cs7: 0xe0,
  ef: 0xb8,
  le: 0x04,
  lowdelay: 0x10,
  throughput: 0x08,
  reliability: 0x04,
};

/** parse_ipqos then iptos2str: a name, a number (0–255, C base prefixes) or `none`; printed by name. */
function ipqosName(line: ConfigLine, arg: string | undefined): string {
  if (arg === undefined) fail(line, `Bad IPQoS value: (null)`);
  const lower = arg.toLowerCase();
  if (lower === 'none') return 'none';
  let value = IPQOS[lower];
  if (value === undefined && /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(arg)) {
    const n = /^0x/i.test(arg)
      ? Number.parseInt(arg, 16)
      : arg.startsWith('0')
        ? Number.parseInt(arg, 8)
        : Number(arg);
    if (n >= 0 && n <= 255) value = n;
  }
  if (value === undefined) fail(line, `Bad IPQoS value: ${arg}`);
  const name = Object.keys(IPQOS).find((k) => IPQOS[k] === value);
  return name ?? `0x${value.toString(16).padStart(2, '0')}`;
}

export function ipqos(line: ConfigLine): string {
  const a = ipqosName(line, line.args[0]);
  const b = line.args[1] === undefined ? a : ipqosName(line, line.args[1]);
  noExtra(line, 2);
  return `${a} ${b}`;
}

const SCALE: Record<string, number> = {
  B: 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
  E: 2 ** 60,
};

/** scan_scaled(): `1K`, `1.5M`, `100`; then an optional interval (`none` keeps the default). */
export function rekeyLimit(line: ConfigLine): string {
  const arg = line.args[0];
  if (arg === undefined || arg === '') fail(line, 'Missing argument.');
  let bytes = 0;
  if (arg !== 'default') {
    const m = /^([0-9]+)(?:\.([0-9]+))?([BKMGTPE]?)$/i.exec(arg);
    if (!m) fail(line, `Bad number '${arg}': Invalid argument`);
    const unit = SCALE[(m[3] || 'B').toUpperCase()]!;
    const fraction = m[2] === undefined ? 0 : Number(`0.${m[2]}`);
    bytes = Number(m[1]) * unit + Math.floor(fraction * unit);
    if (bytes !== 0 && bytes < 16) fail(line, 'RekeyLimit too small');
  }
  let interval = '0';
  const second = line.args[1];
  if (second !== undefined && second !== 'none') {
    if (second === '') fail(line, 'missing time value.');
    const t = convtime(second);
    if (t === undefined) fail(line, 'invalid time value.');
    interval = String(t);
  }
  noExtra(line, 2);
  return `${bytes} ${interval}`;
}
