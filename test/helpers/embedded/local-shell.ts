import type { SpawnOptions } from 'node:child_process';

/** How to start the user's shell for a session: the program, its argv and spawn options. */
export interface ShellInvocation {
  file: string;
  args: string[];
  options: Pick<SpawnOptions, 'windowsVerbatimArguments'>;
}

/**
 * The command line sshd would run: `sh -c command` on POSIX (OpenSSH runs the login shell with
 * `-c`; /bin/sh keeps the test bodies' shell syntax the same on every POSIX machine), and on
 * Windows `cmd.exe /d /s /c "command"`, as OpenSSH for Windows does with its default shell —
 * verbatim, because cmd.exe parses its own command line and Node's quoting would corrupt it.
 * Without a command: the shell reading its commands from the channel, as sshd starts a login
 * shell for a session without a pty (no `-i`: nothing prompts on stderr).
 */
export function shellInvocation(command: string | undefined, platform = process.platform): ShellInvocation {
  if (platform === 'win32') {
    const cmd = process.env.ComSpec ?? 'cmd.exe';
    return command === undefined
      ? { file: cmd, args: ['/d', '/q'], options: {} }
      : { file: cmd, args: ['/d', '/s', '/c', `"${command}"`], options: { windowsVerbatimArguments: true } };
  }
  return command === undefined
    ? { file: '/bin/sh', args: [], options: {} }
    : { file: '/bin/sh', args: ['-c', command], options: {} };
}

/** The environment a session starts with: what sshd sets, never the server process's own secrets. */
export function sessionEnvironment(init: {
  home: string;
  user: string;
  connection: string;
  requested: ReadonlyMap<string, string>;
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? (process.platform === 'win32' ? undefined : '/usr/local/bin:/usr/bin:/bin'),
    HOME: init.home,
    USER: init.user,
    LOGNAME: init.user,
    SSH_CONNECTION: init.connection,
    SSH_CLIENT: init.connection.split(' ').slice(0, 3).join(' '),
  };
  if (process.platform === 'win32') {
    // cmd.exe and most programs cannot start without these.
    for (const k of ['SystemRoot', 'SystemDrive', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'WINDIR']) {
      if (process.env[k] !== undefined) env[k] = process.env[k];
    }
    env.USERPROFILE = init.home;
  } else {
    env.SHELL = '/bin/sh';
    if (process.env.TMPDIR !== undefined) env.TMPDIR = process.env.TMPDIR;
  }
  for (const [k, v] of init.requested) env[k] = v;
  return env;
}
