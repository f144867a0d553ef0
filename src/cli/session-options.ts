import type { HostConfig } from '../config/host-config.js';
import { normalizeResolveOptions } from '../config/resolve-options.js';
import { clientTokens, expandPercent, type TokenContext } from '../config/tokens.js';
import { ConfigError } from '../errors.js';
import { type SessionType, sessionTypeOf } from './session-type.js';
import { remoteCommandLine, type SshArgs } from './ssh-args.js';

export type RequestTty = 'auto' | 'no' | 'yes' | 'force';

/** The session ssh 9.2 would open for this command line and configuration (ssh.c main). */
export interface SessionPlan {
  /** The remote command line: the argv words, else the expanded RemoteCommand. */
  readonly command: string;
  readonly requestTty: RequestTty;
  /** `-n` or StdinNull: the remote reads end-of-file. */
  readonly stdinNull: boolean;
  /** LocalCommand, expanded, when PermitLocalCommand allows it. */
  readonly localCommand: string | undefined;
  /** SessionType (-N none, -s subsystem): what the session channel runs, if one is opened. */
  readonly sessionType: SessionType;
  /** `-f` or ForkAfterAuthentication: go to the background once authenticated. */
  readonly fork: boolean;
}

const REQUEST_TTY: Record<string, RequestTty> = {
  yes: 'yes',
  true: 'yes',
  no: 'no',
  false: 'no',
  force: 'force',
  auto: 'auto',
};

/** A value as ssh_config stores it; `none` clears RemoteCommand and LocalCommand (readconf.c). */
function raw(host: HostConfig, keyword: string): string | undefined {
  return host.effective?.get(keyword)?.[0];
}

function flag(host: HostConfig, keyword: string, name: string): boolean {
  const v = raw(host, keyword)?.toLowerCase();
  if (v === undefined || v === 'no' || v === 'false') return false;
  if (v === 'yes' || v === 'true') return true;
  throw new ConfigError(`${name}: unsupported option "${raw(host, keyword)}" (expected yes or no)`);
}

function refuse(what: string, fix: string): never {
  throw new ConfigError(`${what} is not supported by sshmux yet; ${fix}`);
}

/**
 * Options sshmux cannot honour stop the run, naming the keyword, before anything connects.
 */
function refuseUnsupported(host: HostConfig): void {
  sessionTypeOf(host);
  flag(host, 'forkafterauthentication', 'ForkAfterAuthentication');
  if (flag(host, 'forwardx11', 'ForwardX11')) refuse('ForwardX11 yes', 'set ForwardX11 no');
  const tunnel = raw(host, 'tunnel')?.toLowerCase();
  if (tunnel !== undefined && tunnel !== 'no' && tunnel !== 'false') {
    refuse(`Tunnel ${raw(host, 'tunnel')}`, 'set Tunnel no');
  }
}

/** The `%` tokens of ssh.c's cinfo for this host (DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
export function sessionTokens(
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const local = normalizeResolveOptions({ env });
  const ctx: TokenContext = {
    host: host.hostname,
    originalHost: host.originalHost,
    port: host.port,
    user: host.user,
    localUser: local.localUser,
    homeDir: local.homeDir,
    localHostname: local.localHostname,
    uid: local.uid,
    hostKeyAlias: host.hostKeyAlias,
  };
  return clientTokens(ctx);
}

/**
 * Decide the session as ssh.c does: a command line and a RemoteCommand together are an error
 * ("Cannot execute command-line and remote command."), `-t`/`-T` win over RequestTTY, `-n`
 * or StdinNull, and LocalCommand only with PermitLocalCommand. LocalCommand's tokens expand as
 * in ssh 9.2: the client tokens and `%T` (`NONE`: no tunnel); RemoteCommand comes expanded.
 */
export function planSession(
  args: Pick<SshArgs, 'command' | 'requestTty' | 'nullStdin'>,
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
): SessionPlan {
  refuseUnsupported(host);
  const remoteRaw = raw(host, 'remotecommand');
  const remote = remoteRaw === undefined || remoteRaw.toLowerCase() === 'none' ? undefined : remoteRaw;
  if (args.command.length > 0 && remote !== undefined) {
    throw new ConfigError('Cannot execute command-line and remote command.');
  }
  const ttyRaw = raw(host, 'requesttty')?.toLowerCase() ?? 'auto';
  const configTty = REQUEST_TTY[ttyRaw];
  if (configTty === undefined) throw new ConfigError(`RequestTTY: unsupported option "${ttyRaw}"`);
  const tokens = raw(host, 'localcommand') === undefined ? {} : sessionTokens(host, env);
  // The configuration already expanded RemoteCommand's tokens, as ssh.c does before -G prints it.
  const command = remote === undefined ? remoteCommandLine(args) : remote;
  const localRaw = raw(host, 'localcommand');
  const local = localRaw === undefined || localRaw.toLowerCase() === 'none' ? undefined : localRaw;
  const permitLocal = flag(host, 'permitlocalcommand', 'PermitLocalCommand');
  return Object.freeze({
    command,
    requestTty: args.requestTty !== 'auto' ? args.requestTty : configTty,
    stdinNull: args.nullStdin || flag(host, 'stdinnull', 'StdinNull'),
    sessionType: sessionTypeOf(host),
    fork: flag(host, 'forkafterauthentication', 'ForkAfterAuthentication'),
    localCommand:
      permitLocal && local !== undefined && local !== ''
        ? expandPercent(local, { ...tokens, T: 'NONE' }, 'LocalCommand')
        : undefined,
  });
}

/**
 * Whether ssh 9.2 asks for a pty (ssh.c: `tty_flag`), and the notice it prints when it will not:
 * `-t`/RequestTTY yes or force ask for one, and so does no command at all unless RequestTTY no;
 * stdin not a terminal (or `-n`/StdinNull) cancels it unless forced (`-tt`).
 */
export function wantsPty(
  plan: Pick<SessionPlan, 'requestTty' | 'stdinNull'> & Partial<Pick<SessionPlan, 'sessionType' | 'command'>>,
  stdinIsTty: boolean,
): { pty: boolean; notice?: string } {
  // ssh.c: no session, no terminal (before the stdin check, so without its notice).
  if (plan.sessionType === 'none') return { pty: false };
  // No command (the login shell): a pty unless RequestTTY says no, as ssh.c's tty_flag.
  const asked =
    plan.command === '' ? plan.requestTty !== 'no' : plan.requestTty === 'yes' || plan.requestTty === 'force';
  if ((!stdinIsTty || plan.stdinNull) && plan.requestTty !== 'force') {
    return asked
      ? { pty: false, notice: 'Pseudo-terminal will not be allocated because stdin is not a terminal.' }
      : { pty: false };
  }
  return { pty: asked };
}
