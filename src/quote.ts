/**
 * Quote argv for a POSIX shell: the remote sshd runs the command through the user's shell,
 * so each argument is wrapped in single quotes with embedded `'` written as `'\''`. Plain
 * words made only of safe characters are left bare so logs and `ps` stay readable.
 * This is the only function that builds remote command strings from argv.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument quoted for a POSIX shell (bare when it is made only of safe characters); NUL is refused. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) {
    throw new TypeError(`Cannot pass a NUL byte in a remote command argument: ${JSON.stringify(arg)}`);
  }
  if (arg !== '' && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Join argv into one POSIX shell command line; a string is returned as-is (caller's responsibility, as with ssh). */
export function shellCommand(argvOrCommand: readonly string[] | string): string {
  if (typeof argvOrCommand === 'string') return argvOrCommand;
  if (argvOrCommand.length === 0) throw new TypeError('Expected a non-empty argv array, got []');
  return argvOrCommand.map(quoteArg).join(' ');
}
