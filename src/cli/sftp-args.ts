import { ScpArgError } from './scp-args.js';
import { readShortOptions } from './short-options.js';

export const SFTP_USAGE =
  'usage: sftp [-46AaCfNpqrv] [-B buffer_size] [-b batchfile] [-c cipher]\n' +
  '          [-D sftp_server_command] [-F ssh_config] [-i identity_file]\n' +
  '          [-J destination] [-l limit] [-o ssh_option] [-P port]\n' +
  '          [-R num_requests] [-S program] [-s subsystem | sftp_server]\n' +
  '          [-X sftp_option] destination\n';

/** sftp's command line, parsed as sftp.c's getopt loop does. */
export interface SftpArgs {
  sshOptions: string[];
  port: number | undefined;
  /** -b FILE (`-` for stdin): batch mode, which also means quiet and BatchMode yes. */
  batchFile: string | undefined;
  quiet: boolean;
  preserve: boolean;
  recursive: boolean;
  fsync: boolean;
  verbose: number;
  limitBytesPerSecond: number | undefined;
  bufferLength: number | undefined;
  requests: number | undefined;
  /** -D: run this SFTP server program directly instead of connecting. */
  direct: string | undefined;
  destination: string | undefined;
  /** The optional second operand (where `sftp host:file local` puts the file). */
  localTarget: string | undefined;
}

export const SFTP_WITH_VALUE = new Set([...'BbcDFiJloPRSsX']);
export const SFTP_FLAGS = new Set([...'1246AafhNpqrv']);
const usage = (getopt?: string): never => {
  throw new ScpArgError(`${getopt === undefined ? '' : `sftp: ${getopt}\r\n`}${SFTP_USAGE}`, 1);
};
const fatal = (message: string): never => {
  throw new ScpArgError(`${message}\r\n`, 255);
};
const refuse = (flag: string, why: string): never => {
  throw new ScpArgError(`option -${flag} is not supported by sshmux sftp: ${why}\r\n`, 255);
};

export function parseSftpArgs(argv: readonly string[]): SftpArgs {
  const out: SftpArgs = {
    sshOptions: [],
    port: undefined,
    batchFile: undefined,
    quiet: false,
    preserve: false,
    recursive: false,
    fsync: false,
    verbose: 0,
    limitBytesPerSecond: undefined,
    bufferLength: undefined,
    requests: undefined,
    direct: undefined,
    destination: undefined,
    localTarget: undefined,
  };
  let noisy = false;
  const i = readShortOptions(argv, {
    withValue: SFTP_WITH_VALUE,
    flags: SFTP_FLAGS,
    onValue: (flag, value) => applyValue(out, flag, value),
    onFlag: (flag) => {
      if (flag === 'N') noisy = true;
      else applyFlag(out, flag);
    },
    usage,
  });
  if (noisy) out.quiet = false;
  const operands = argv.slice(i);
  if (out.direct === undefined && (operands.length === 0 || operands.length > 2)) usage();
  out.destination = operands[0];
  out.localTarget = operands[1];
  return out;
}

function applyFlag(out: SftpArgs, flag: string): void {
  switch (flag) {
    case '1':
      fatal('SSH protocol v.1 is no longer supported');
      break;
    case '2':
      break;
    case '4':
    case '6':
    case 'C':
      out.sshOptions.push(`-${flag}`);
      break;
    case 'q':
      out.quiet = true;
      out.sshOptions.push('-q');
      break;
    case 'v':
      out.verbose++;
      out.sshOptions.push('-v');
      break;
    case 'p':
      out.preserve = true;
      break;
    case 'r':
      out.recursive = true;
      break;
    case 'f':
      out.fsync = true;
      break;
    case 'a':
      refuse('a', 'resuming transfers is not implemented; transfer whole files');
      break;
    case 'A':
      refuse('A', 'agent forwarding is not available to the sftp session; leave -A out');
      break;
    default:
      usage();
  }
}

function applyValue(out: SftpArgs, flag: string, value: string): void {
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
      if (!(port > 0 && port <= 65535)) fatal(`Bad port "${value}"\n`);
      out.port = port;
      return;
    }
    case 'b':
      if (out.batchFile !== undefined) fatal('Batch file already specified.');
      out.batchFile = value;
      out.quiet = true;
      out.sshOptions.push('-oBatchMode=yes');
      return;
    case 'l': {
      const kbps = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(kbps >= 1 && kbps <= 100 * 1024 * 1024)) usage();
      out.limitBytesPerSecond = (kbps * 1024) / 8;
      return;
    }
    case 'B': {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(n > 0 && n <= 256 * 1024)) fatal(`Invalid buffer size "${value}"`);
      out.bufferLength = n;
      return;
    }
    case 'R': {
      const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (!(n >= 1 && n <= 256 * 1024)) fatal(`Invalid number of requests "${value}"`);
      out.requests = n;
      return;
    }
    case 'D':
      out.direct = value;
      return;
    case 's':
      if (value !== 'sftp') refuse('s', 'only the sftp subsystem is opened; give -s sftp or leave it out');
      return;
    case 'S':
      refuse('S', 'sshmux sftp opens its session itself; to use another program, run OpenSSH sftp -S');
      return;
    default:
      if (value.startsWith('buffer=')) out.bufferLength = Number.parseInt(value.slice(7), 10);
      else if (value.startsWith('nrequests=')) out.requests = Number.parseInt(value.slice(10), 10);
      else fatal('Invalid -X option');
  }
}
