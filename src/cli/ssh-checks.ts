import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import type { HostConfig } from '../config/host-config.js';
import { sshConfigError } from '../config/ssh-error.js';
import { expandTilde } from '../config/tokens.js';
import type { SshArgs } from './ssh-args.js';

const BELOW_INFO = new Set(['SILENT', 'FATAL', 'ERROR']);

/**
 * ssh.c's checks between reading the configuration and acting on it (also under -G): the
 * fatal combinations, UpdateHostKeys=ask switched off where it cannot work, and the ForwardAgent
 * socket check. Returns the HostConfig as ssh would then print it; `warn` gets ssh's error() lines.
 */
export function applySshChecks(
  args: SshArgs,
  host: HostConfig,
  warn: (message: string) => void,
  /** Called where ssh decides about the pseudo-terminal (its notice comes before the agent check). */
  ttyDecision: (host: HostConfig) => void = () => {},
): HostConfig {
  const e = host.effective;
  if (e === undefined) return host;
  const get = (k: string) => e.get(k)?.[0];
  const hasCommand = args.command.length > 0;
  const remoteCommand = get('remotecommand');
  if (Number(get('connectionattempts') ?? '1') <= 0) {
    throw sshConfigError('Invalid number of ConnectionAttempts', { logged: true });
  }
  if (hasCommand && remoteCommand !== undefined) {
    throw sshConfigError('Cannot execute command-line and remote command.', { logged: true });
  }
  if (
    get('forkafterauthentication') === 'yes' &&
    !hasCommand &&
    remoteCommand === undefined &&
    get('sessiontype') !== 'none'
  ) {
    throw sshConfigError('Cannot fork into background without a command to execute.', { logged: true });
  }
  const checked = updateHostKeysChecked(args, host, e);
  ttyDecision(checked);
  const agentPath = get('forwardagent');
  if (agentPath !== undefined && agentPath !== 'yes' && agentPath !== 'no' && !existsSync(agentPath)) {
    warn(`Cannot forward agent socket path "${agentPath}": No such file or directory`);
    if (get('exitonforwardfailure') === 'yes') throw sshConfigError('', { logged: true });
  }
  return checked;
}

/** UpdateHostKeys=ask is switched off where ssh cannot ask (ssh.c, "Tidy and check options"). */
function updateHostKeysChecked(
  args: SshArgs,
  host: HostConfig,
  e: ReadonlyMap<string, readonly string[]>,
): HostConfig {
  const get = (k: string) => e.get(k)?.[0];
  if (get('updatehostkeys') !== 'ask') return host;
  const hasCommand = args.command.length > 0;
  const remoteCommand = get('remotecommand');
  const persist = get('controlpersist');
  const disable =
    (persist !== undefined && persist !== 'no' && get('controlpath') !== undefined) ||
    hasCommand ||
    remoteCommand !== undefined ||
    get('requesttty') === 'false' ||
    BELOW_INFO.has(get('loglevel') ?? 'INFO');
  if (!disable) return host;
  const effective = new Map(e);
  effective.set('updatehostkeys', Object.freeze(['false']));
  return Object.freeze({ ...host, effective });
}

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
};

/** ssh.c's -i check while parsing: a file it cannot stat is skipped with this warning (stderr, even with -q). */
export function warnMissingIdentities(args: SshArgs, stderr: NodeJS.WritableStream): void {
  for (const item of args.items) {
    if (item.kind !== 'identity') continue;
    const file = item.file.startsWith('~') ? expandTilde(item.file, os.userInfo().homedir, '-i') : item.file;
    try {
      statSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      stderr.write(
        `Warning: Identity file ${file} not accessible: ${STRERROR[code] ?? (err as Error).message}.\n`,
      );
    }
  }
}
