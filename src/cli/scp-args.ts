import { ConfigError } from '../errors.js';
import { readShortOptions } from './short-options.js';

export const SCP_USAGE =
  'usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n' +
  '           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n' +
  '           [-P port] [-S program] [-X sftp_option] source ... target\n';

/** scp's command line, parsed as scp.c's getopt loop does. */
export interface ScpArgs {
  /** Flags passed on to the ssh that each session runs (-4 -6 -A -C -c -F -i -J -o -v -q -oBatchmode). */
  sshOptions: string[];
  port: number | undefined;
  recursive: boolean;
  preserve: boolean;
  quiet: boolean;
  verbose: number;
  /** -3 (the default) or -R. */
  throughLocal: boolean;
  /** -l, in bytes per second (scp takes Kbit/s). */
  limitBytesPerSecond: number | undefined;
  /** -X buffer= */
  bufferLength: number | undefined;
  /** -X nrequests= */
  requests: number | undefined;
  targetShouldBeDirectory: boolean;
  /** -D: an SFTP server program run here instead of connecting (every remote operand goes to it). */
  direct: string | undefined;
  operands: string[];
}

/** scp's exit status for a usage error, and for its fatal() errors. */
export const SCP_USAGE_EXIT = 1;
export const SCP_FATAL_EXIT = 255;

/** A usage error (exit 1) or a fatal one (exit 255), with scp's text. */
export class ScpArgError extends ConfigError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const SCP_WITH_VALUE = new Set(['D', 'F', 'J', 'P', 'S', 'c', 'i', 'l', 'o', 'X']);
export const SCP_FLAGS = new Set([...'12346ABCTdfOpqRrstv']);

/** getopt's complaint (through OpenSSH's log, so CR LF), then the usage. */
const usage = (getopt?: string): never => {
  throw new ScpArgError(`${getopt === undefined ? '' : `scp: ${getopt}\r\n`}${SCP_USAGE}`, SCP_USAGE_EXIT);
};
const fatal = (message: string): never => {
  throw new ScpArgError(`scp: ${message}\r\n`, SCP_FATAL_EXIT);
};
const refuse = (flag: string, why: string): never => {
  throw new ScpArgError(`scp: option -${flag} is not supported by sshmux scp: ${why}\r\n`, SCP_FATAL_EXIT);
};

/** Parse argv as scp 9.2 does: options (clustered, values attached or not) until the first operand or `--`. */
export function parseScpArgs(argv: readonly string[]): ScpArgs {
  const out: ScpArgs = {
    sshOptions: [],
    port: undefined,
    recursive: false,
    preserve: false,
    quiet: false,
    verbose: 0,
    throughLocal: true,
    limitBytesPerSecond: undefined,
    bufferLength: undefined,
    requests: undefined,
    targetShouldBeDirectory: false,
    direct: undefined,
    operands: [],
  };
  const i = readShortOptions(argv, {
    withValue: SCP_WITH_VALUE,
    flags: SCP_FLAGS,
    onValue: (flag, value) => applyValue(out, flag, value),
    onFlag: (flag) => applyFlag(out, flag),
    usage,
  });
  out.operands = argv.slice(i);
  if (out.operands.length < 2) usage();
  if (out.operands.length > 2) out.targetShouldBeDirectory = true;
  return out;
}

function applyFlag(out: ScpArgs, flag: string): void {
  switch (flag) {
    case '1':
      fatal('SSH protocol v.1 is no longer supported');
      break;
    case '2':
    case 's':
    case 'T':
      // -2 is ignored by scp; -s picks SFTP mode (the only one here); -T only matters to the SCP protocol.
      break;
    case '4':
    case '6':
    case 'C':
      out.sshOptions.push(`-${flag}`);
      break;
    case 'A':
      refuse('A', 'agent forwarding is not available to the sftp sessions scp opens; leave -A out');
      break;
    case '3':
      out.throughLocal = true;
      break;
    case 'R':
      refuse(
        'R',
        'copies between two remote hosts go through this machine (-3); run scp on the origin host instead',
      );
      break;
    case 'O':
      refuse('O', 'only the SFTP protocol is implemented; use OpenSSH scp -O for the legacy SCP protocol');
      break;
    case 'B':
      out.sshOptions.push('-oBatchmode=yes');
      break;
    case 'p':
      out.preserve = true;
      break;
    case 'r':
      out.recursive = true;
      break;
    case 'q':
      out.quiet = true;
      out.sshOptions.push('-q');
      break;
    case 'v':
      out.verbose++;
      out.sshOptions.push('-v');
      break;
    case 'd':
      out.targetShouldBeDirectory = true;
      break;
    default:
      // -f and -t: the remote end of the legacy SCP protocol.
      refuse(flag, 'the server side of the legacy SCP protocol is not implemented');
  }
}

function applyValue(out: ScpArgs, flag: string, value: string): void {
  switch (flag) {
    case 'o':
    case 'c':
    case 'i':
    case 'F':
    case 'J':
      out.sshOptions.push(`-${flag}`, value);
      return;
    case 'P': {
      const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(port > 0 && port <= 65535)) fatal(`bad port "${value}"\n`);
      out.port = port;
      return;
    }
    case 'l': {
      const kbps = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(kbps >= 1 && kbps <= 100 * 1024 * 1024)) usage();
      // scp.c: -l is Kbit/s, 1024 bits each.
      out.limitBytesPerSecond = (kbps * 1024) / 8;
      return;
    }
    case 'X':
      applySftpOption(out, value);
      return;
    case 'S':
      refuse('S', 'sshmux scp opens its sessions itself; to use another program, run OpenSSH scp -S');
      return;
    default:
      out.direct = value;
  }
}

function applySftpOption(out: ScpArgs, value: string): void {
  if (value.startsWith('buffer=')) {
    const n = scaled(value.slice(7));
    if (n === undefined || n <= 0 || n > 256 * 1024)
      fatal(`Invalid buffer size "${value.slice(7)}": Invalid argument`);
    out.bufferLength = n;
  } else if (value.startsWith('nrequests=')) {
    const text = value.slice(10);
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(n >= 1 && n <= 256 * 1024)) fatal(`Invalid number of requests "${text}": invalid`);
    out.requests = n;
  } else {
    fatal('Invalid -X option');
  }
}

/** scan_scaled: a number with an optional K, M or G (powers of 1024). */
function scaled(text: string): number | undefined {
  const m = /^(\d+)([KMGkmg]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}
