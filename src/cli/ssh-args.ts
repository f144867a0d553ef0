import { ConfigError } from '../errors.js';

/** What `sshmux ssh` was asked to do, parsed with OpenSSH's grammar. */
export interface SshArgs {
  destination: string;
  /** Remote command words, joined with spaces as ssh does; empty for none. */
  command: string[];
  port: number | undefined;
  user: string | undefined;
  identityFiles: string[];
  /** `-o Key=Value` in order given (first one wins, as in OpenSSH). */
  options: [string, string][];
}

const WITH_VALUE = new Set(['p', 'l', 'i', 'o']);

/**
 * Parse ssh's command line: options (clustered or not, values attached or separate) until the
 * destination; everything after the destination is the remote command. Unsupported options
 * fail with a clear message rather than being ignored.
 */
export function parseSshArgs(argv: readonly string[]): SshArgs {
  const out: SshArgs = {
    destination: '',
    command: [],
    port: undefined,
    user: undefined,
    identityFiles: [],
    options: [],
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    // Every option supported so far takes a value: `-p 22`, `-p22`, `-oKey=Value`.
    const flag = a[1]!;
    if (!WITH_VALUE.has(flag)) {
      throw new ConfigError(`sshmux ssh: unsupported option -${flag} (supported: -p -l -i -o)`);
    }
    let value = a.slice(2);
    if (value === '') {
      i++;
      if (i >= argv.length) throw new ConfigError(`sshmux ssh: option -${flag} needs a value`);
      value = argv[i]!;
    }
    applyOption(out, flag, value);
  }
  const dest = argv[i];
  if (dest === undefined || dest === '')
    throw new ConfigError('sshmux ssh: missing destination ([user@]host)');
  out.destination = dest;
  out.command = argv.slice(i + 1);
  return out;
}

function applyOption(out: SshArgs, flag: string, value: string): void {
  switch (flag) {
    case 'p': {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError(`sshmux ssh: bad port \`${value}\` for -p (expected 1-65535)`);
      }
      out.port = port;
      return;
    }
    case 'l':
      out.user = value;
      return;
    case 'i':
      out.identityFiles.push(value);
      return;
    case 'o': {
      const m = /^\s*([A-Za-z0-9]+)\s*(?:=|\s)\s*(.*)$/.exec(value);
      if (!m) throw new ConfigError(`sshmux ssh: bad -o option \`${value}\` (expected Key=Value)`);
      out.options.push([m[1]!, m[2]!]);
      return;
    }
  }
}
