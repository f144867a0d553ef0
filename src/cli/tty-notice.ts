import type { HostConfig } from '../config/host-config.js';
import type { SshArgs } from './ssh-args.js';

/** LogLevels at which ssh's logit() (INFO) is shown. */
const SHOWS_INFO = new Set(['INFO', 'VERBOSE', 'DEBUG', 'DEBUG2', 'DEBUG3']);

/**
 * Whether ssh would say "Pseudo-terminal will not be allocated because stdin is not a terminal."
 * (ssh.c, after reading the configuration, also under -G): a tty was wanted — asked for, or no
 * command and RequestTTY not `no` — but stdin is no terminal (or StdinNull/-n) and it is not forced.
 */
export function ttyRefusedNotice(args: SshArgs, host: HostConfig, stdinIsTty: boolean): boolean {
  const e = host.effective;
  const requestTty = e?.get('requesttty')?.[0] ?? 'auto';
  const hasCommand = args.command.length > 0 || e?.get('remotecommand')?.[0] !== undefined;
  // Printed forms: RequestTTY yes is `true`, no is `false`.
  let tty = requestTty === 'true' || requestTty === 'force';
  if (!hasCommand) tty = requestTty !== 'false';
  if (requestTty === 'false' || e?.get('sessiontype')?.[0] === 'none') tty = false;
  const stdinNull = args.nullStdin || e?.get('stdinnull')?.[0] === 'yes';
  const level = (e?.get('loglevel')?.[0] ?? 'INFO').toUpperCase();
  return tty && (!stdinIsTty || stdinNull) && requestTty !== 'force' && SHOWS_INFO.has(level);
}

export const TTY_REFUSED = 'Pseudo-terminal will not be allocated because stdin is not a terminal.';
