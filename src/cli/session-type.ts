import type { HostConfig } from '../config/host-config.js';
import { sshConfigError } from '../config/ssh-error.js';
import { ConfigError } from '../errors.js';
import type { SshArgs } from './ssh-args.js';
import { SSH_USAGE } from './ssh-flags.js';

/** ssh's SessionType: `default` runs a command or shell, `none` opens no session (-N), `subsystem` (-s). */
export type SessionType = 'default' | 'none' | 'subsystem';

/** SessionType as resolved (readconf.c accepts only these three). */
export function sessionTypeOf(host: HostConfig): SessionType {
  const v = (host.effective?.get('sessiontype')?.[0] ?? 'default').toLowerCase();
  if (v === 'default' || v === 'none' || v === 'subsystem') return v;
  throw new ConfigError(`SessionType: unsupported option "${v}"`);
}

const SESSION_TYPE_LINE = /^\s*sessiontype\s*(?:=\s*|\s+)"?([A-Za-z]*)/i;

/** SessionType as the command line has set it so far (-N, -s, -W, `-o SessionType`): first one wins. */
function sessionTypeSoFar(out: Pick<SshArgs, 'items'>): string | undefined {
  for (const item of out.items) {
    if (item.kind === 'force' && item.key === 'sessiontype') return item.value;
    if (item.kind === 'line') {
      const m = SESSION_TYPE_LINE.exec(item.text);
      if (m) return m[1]!.toLowerCase();
    }
  }
  return undefined;
}

/**
 * ssh.c refuses -N after -s (or a SessionType other than none) and -s after -N, while it parses:
 * call before the flag is applied.
 */
export function checkSessionTypeFlag(out: Pick<SshArgs, 'items'>, flag: string): void {
  if (flag !== 'N' && flag !== 's') return;
  const before = sessionTypeSoFar(out);
  if (flag === 'N' && before !== undefined && before !== 'none') {
    throw sshConfigError('Cannot specify -N with -s/SessionType');
  }
  if (flag === 's' && before !== undefined && before !== 'subsystem') {
    throw sshConfigError('Cannot specify -s with -N/SessionType');
  }
}

/** ssh.c, after parsing: a subsystem set on the command line needs its name there. */
export function checkSubsystemNamed(out: Pick<SshArgs, 'items' | 'command'>): void {
  if (out.command.length === 0 && sessionTypeSoFar(out) === 'subsystem') {
    throw sshConfigError(`You must specify a subsystem to invoke.\n${SSH_USAGE}`, { plain: true });
  }
}
