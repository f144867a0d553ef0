import type { HostConfig } from '../config/host-config.js';
import { logsAt } from '../config/log-level.js';
import { expandPercent } from '../config/tokens.js';
import { ConfigError } from '../errors.js';
import { ChannelIds } from '../forward/channel-ids.js';
import { type ChannelOpener, ForwardSet } from '../forward/forward-set.js';
import { type SessionPlan, sessionTokens } from './session-options.js';
import type { RunningSession } from './ssh-direct.js';

/** A forward could not be set up under ExitOnForwardFailure: ssh's lines are out, exit 255 silently. */
export const FORWARD_FAILED = 'SSHMUX_ERR_FORWARD_FAILED';

function yes(host: HostConfig, keyword: string): boolean {
  const v = host.effective?.get(keyword)?.[0]?.toLowerCase();
  return v === 'yes' || v === 'true';
}

/** Whether ssh's error() lines are shown at this LogLevel (not with QUIET or FATAL). */
export function logsErrors(host: HostConfig): boolean {
  return logsAt(host, 'ERROR');
}

/**
 * The -L/-D/LocalForward/DynamicForward forwards of one `sshmux ssh` run, set up as ssh does:
 * after authentication and before the session, each listener numbered before the session;
 * the run ends when the session has ended and no forwarded connection is open any more.
 */
export class SshForwarding {
  readonly ids = new ChannelIds();
  readonly #host: HostConfig;
  readonly #error: (line: string) => void;
  #set: ForwardSet | undefined;
  #sessionId: number | undefined;

  constructor(host: HostConfig, error: (line: string) => void) {
    this.#host = host;
    this.#error = error;
  }

  /** The forwarding of this run, or undefined when it has none. */
  static for(host: HostConfig, error: (line: string) => void): SshForwarding | undefined {
    return (host.localForwards?.length ?? 0) > 0 ? new SshForwarding(host, error) : undefined;
  }

  /** Listen for every forward; under ExitOnForwardFailure a failure ends the run with 255. */
  async start(open: ChannelOpener): Promise<void> {
    const host = this.#host;
    const mask = host.effective?.get('streamlocalbindmask')?.[0];
    const set = new ForwardSet({
      open,
      error: this.#error,
      ids: this.ids,
      gatewayPorts: yes(host, 'gatewayports'),
      family: host.addressFamily,
      streamLocalBindMask: mask === undefined ? 0o177 : Number.parseInt(mask, 8),
      streamLocalBindUnlink: yes(host, 'streamlocalbindunlink'),
    });
    this.#set = set;
    const forwards = host.localForwards ?? [];
    const listening = await set.addAll(forwards);
    // ssh.c: fatal when any failed under ExitOnForwardFailure, else a word only when none could listen.
    if (listening !== forwards.length && yes(host, 'exitonforwardfailure')) {
      this.#error('Could not request local forwarding.');
      set.close();
      throw new ConfigError('a forward could not be set up (ExitOnForwardFailure yes)', {
        code: FORWARD_FAILED,
      });
    }
    if (forwards.length > 0 && listening === 0) this.#error('Could not request local forwarding.');
    this.#sessionId = this.ids.take();
  }

  /** The session, held until the forwarded connections are closed too; closing closes the forwards. */
  hold(session: RunningSession): RunningSession {
    return {
      exited: session.exited.then(async (exit) => {
        await this.#set?.drained();
        return exit;
      }),
      resize: (size) => session.resize(size),
      close: async (abandon) => {
        this.#set?.close();
        await session.close(abandon);
      },
    };
  }

  /** Stop listening and close every forwarded connection. Idempotent. */
  close(): void {
    this.#set?.close();
  }

  /** `~#`: the open connections as ssh lists them, the session included. */
  listConnections(): string {
    const session =
      this.#sessionId === undefined
        ? []
        : [{ id: this.#sessionId, name: 'client-session', ctype: 'session' }];
    return this.#set?.listConnections(session) ?? 'The following connections are open:\r\n';
  }
}

/** The SshRequest fields for this run's forwards and -W target, ready to spread. */
export function forwardingRequest(
  host: HostConfig,
  stdio: HostConfig['stdioForward'],
  error: (line: string) => void,
): { forwarding?: SshForwarding; stdioForward?: NonNullable<HostConfig['stdioForward']> } {
  const forwarding = SshForwarding.for(host, error);
  return { ...(forwarding && { forwarding }), ...(stdio && { stdioForward: stdio }) };
}

/**
 * -W has no session (ssh.c sets SessionType none and RequestTTY no): nothing runs remotely,
 * stdin feeds the forward. LocalCommand still runs (ssh_session2), expanded as for a session.
 */
export function stdioPlan(args: { nullStdin: boolean }, host: HostConfig): SessionPlan {
  const raw = host.effective?.get('localcommand')?.[0];
  const local = raw === undefined || raw.toLowerCase() === 'none' || raw === '' ? undefined : raw;
  const localCommand =
    local !== undefined && yes(host, 'permitlocalcommand')
      ? expandPercent(local, { ...sessionTokens(host), T: 'NONE' }, 'LocalCommand')
      : undefined;
  return Object.freeze({
    command: '',
    requestTty: 'no',
    stdinNull: args.nullStdin,
    localCommand,
    sessionType: 'none',
    fork: yes(host, 'forkafterauthentication'),
  });
}
