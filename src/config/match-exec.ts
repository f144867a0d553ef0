import { spawn } from 'node:child_process';
import { sshConfigError } from './ssh-error.js';

/** How a `Match exec` command runs: the program, its arguments, and the spawn options that matter. */
export interface MatchExecInvocation {
  readonly file: string;
  readonly args: readonly string[];
  /** Win32 only: the arguments are the command line's tail as is (no quoting added). */
  readonly windowsVerbatimArguments: boolean;
}

/** A Windows environment variable, whatever the case of its name (as Windows looks it up). */
function windowsEnv(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toUpperCase() === name);
  const value = key === undefined ? undefined : env[key];
  return value === '' ? undefined : value;
}

/**
 * readconf.c's execute_in_shell(). POSIX: `$SHELL -c command` ($SHELL unset: /bin/sh).
 * Win32-OpenSSH: `system(command)`, which the C runtime runs as `%ComSpec% /c command`
 * (ComSpec unset: cmd.exe) with the command line passed through untouched, so cmd.exe's own
 * quote rules apply to it exactly as they do under Win32-OpenSSH.
 */
export function matchExecInvocation(
  command: string,
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): MatchExecInvocation {
  if (platform === 'win32') {
    return {
      file: windowsEnv(env, 'COMSPEC') ?? 'cmd.exe',
      args: ['/c', command],
      windowsVerbatimArguments: true,
    };
  }
  const shell = env.SHELL === undefined || env.SHELL === '' ? '/bin/sh' : env.SHELL;
  return { file: shell, args: ['-c', command], windowsVerbatimArguments: false };
}

/**
 * Run a `Match exec` command; its exit status, or an error as ssh words it. stdin and stdout
 * are the null device and stderr is ours, as POSIX ssh does. (Win32-OpenSSH's system() would
 * leave stdout on ssh's own, where git reads the SSH stream: sshmux keeps that clean.)
 */
export function runMatchExec(
  command: string,
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
  at: string,
): Promise<number> {
  const inv = matchExecInvocation(command, platform, env);
  return new Promise<number | undefined>((resolve, reject) => {
    const child = spawn(inv.file, [...inv.args], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...env },
      windowsVerbatimArguments: inv.windowsVerbatimArguments,
      windowsHide: true,
    });
    child.on('error', (err) =>
      reject(
        // Win32-OpenSSH: system() returned -1, which ssh reports as a failed match exec.
        platform === 'win32'
          ? sshConfigError(`${at}: match exec '${command.slice(0, 100)}' error`, { logged: true, cause: err })
          : sshConfigError(`Shell "${inv.file}" is not executable: ${err.message}`, {
              logged: true,
              cause: err,
            }),
      ),
    );
    child.on('exit', (code) => resolve(code ?? undefined));
  }).then((code) => {
    if (code === undefined)
      throw sshConfigError(`${at}: match exec '${command.slice(0, 100)}' error`, { logged: true });
    return code;
  });
}
