import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import type { HostConfig } from '../config/host-config.js';
import { expandPercent } from '../config/tokens.js';
import { ConfigError, NetworkError } from '../errors.js';
import { ProxyStream } from './proxy-stream.js';
import { splitWin32ProxyLine } from './win32-proxy-line.js';

/** How a ProxyCommand child is started and where its stderr goes. */
export interface ProxyCommandOptions {
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** The proxy's environment (and `$SHELL`). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The proxy's working directory. @default process.cwd() */
  cwd?: string;
  /**
   * The proxy's stderr. @default as ssh: ours ('inherit'), but /dev/null ('ignore') for a host
   * with ControlPath and ControlPersist, whose proxy may outlive the terminal (sshconnect.c)
   */
  stderr?: 'inherit' | 'ignore' | number;
  /** @default child_process.spawn */
  spawn?: (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
}

/** A program and its arguments, as handed to `spawn`. */
export interface ProxyInvocation {
  readonly file: string;
  readonly args: readonly string[];
  readonly options: Pick<SpawnOptions, 'argv0' | 'windowsVerbatimArguments'>;
}

/** ProxyCommand's tokens in OpenSSH 9.2 (sshconnect.c expand_proxy_command): %h %k %n %p %r and %%. */
export function expandProxyCommand(host: HostConfig, command: string): string {
  return expandPercent(
    command,
    {
      h: host.hostname,
      k: host.hostKeyAlias ?? host.originalHost,
      n: host.originalHost,
      p: String(host.port),
      r: host.user,
    },
    'ProxyCommand',
  );
}

/**
 * How the expanded command runs. POSIX ssh: `$SHELL -c "exec <command>"` ($SHELL unset or
 * empty: /bin/sh). Win32-OpenSSH has no fork: it hands the command line (without `exec `) to
 * CreateProcess, no shell, and the program is found as splitWin32ProxyLine says; the rest
 * passes verbatim, so the child sees the same command line.
 */
export function proxyInvocation(
  command: string,
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
  exists?: (file: string) => boolean,
): ProxyInvocation {
  if (platform !== 'win32') {
    const shell = env.SHELL === undefined || env.SHELL === '' ? '/bin/sh' : env.SHELL;
    return { file: shell, args: ['-c', `exec ${command}`], options: {} };
  }
  const { program, argv0, rest } = splitWin32ProxyLine(command, cwd, exists);
  return {
    file: program,
    args: rest === '' ? [] : [rest],
    options: { argv0, windowsVerbatimArguments: true },
  };
}

function defaultStderr(host: HostConfig): 'inherit' | 'ignore' {
  return host.controlPath !== undefined && host.controlPersistSeconds !== undefined ? 'ignore' : 'inherit';
}

/** What sshmux cannot honour in a ProxyCommand configuration: refused by name, never ignored. */
function refuseUnsupported(host: HostConfig, command: string): void {
  if (command === '-') {
    throw new ConfigError(
      'ProxyCommand - (the SSH transport on our own stdin and stdout) is not supported by sshmux; give a command, e.g. `nc %h %p`',
    );
  }
  if (host.proxyUseFdpass) {
    throw new ConfigError(
      'ProxyUseFdpass yes is not supported by sshmux (Node cannot receive a passed descriptor); set ProxyUseFdpass no',
    );
  }
}

/**
 * Start `host.proxyCommand` and return its stdio as the SSH transport, once the process runs.
 * An abort before then ends it; once returned, destroying the stream ends it.
 */
export async function proxyCommandSocket(
  host: HostConfig,
  signal: AbortSignal,
  options: ProxyCommandOptions = {},
): Promise<ProxyStream> {
  const raw = host.proxyCommand;
  if (raw === undefined) throw new ConfigError('internal: proxyCommandSocket without a ProxyCommand');
  refuseUnsupported(host, raw);
  const command = expandProxyCommand(host, raw);
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const inv = proxyInvocation(command, options.platform ?? process.platform, env, cwd);
  const destination = `${host.user}@${host.hostname}:${host.port}`;
  signal.throwIfAborted();
  const child = (options.spawn ?? spawn)(inv.file, inv.args, {
    ...inv.options,
    env,
    cwd,
    stdio: ['pipe', 'pipe', options.stderr ?? defaultStderr(host)],
    windowsHide: true,
  });
  const stream = new ProxyStream(child, command);
  return new Promise<ProxyStream>((resolve, reject) => {
    const fail = (err: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      stream.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        new NetworkError(`ProxyCommand: cannot run ${inv.file}: ${err.message}`, {
          destination,
          code: 'SSHMUX_ERR_PROXY_COMMAND',
          cause: err,
        }),
      ),
    );
    child.once('spawn', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(stream);
    });
  });
}
