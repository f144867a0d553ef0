import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HostConfig } from '../config/host-config.js';
import { proxyJumpSocketFactory } from '../connection/proxy-jump.js';
import { agentSessionHost, connectAgent } from '../forward/agent.js';
import { RemoteForwards, type RemoteForwardsOptions } from '../forward/remote-forwards.js';
import type { RemoteForwardSpec } from '../forward/remote-spec.js';
import type { Logger } from '../logger.js';
import type { ChannelTarget } from '../pool/channel-target.js';
import { SshPool } from '../pool/ssh-pool.js';
import type { PtyOptions, SessionKind } from '../pool/types.js';
import { createAuthProvider } from '../security/auth.js';
import { cliAuthPrompter } from '../security/cli-prompter.js';
import { cliPassphraseSource } from '../security/passphrase.js';
import { terminalSafe } from '../security/terminal-text.js';
import { ttyHostKeyPrompt } from '../security/tty-prompt.js';
import { createHostKeyVerifier } from '../security/verify-host-key.js';
import { heldDirect } from './held-direct.js';
import { runLocalCommand } from './local-command.js';
import type { SshForwarding } from './ssh-forwarding.js';
import { startStdioForward } from './ssh-stdio.js';

/** One remote command, as the front runs it either way (daemon or in-process). */
export interface SshRequest {
  host: HostConfig;
  /** What the session runs (ssh's SessionType); `command` names the subsystem for `subsystem`. */
  kind: SessionKind | 'none';
  command: string;
  env: Record<string, string>;
  pty: false | PtyOptions;
  /** `-q`: ssh's informational lines (retry notices, keyboard-interactive instructions) are dropped. */
  quiet?: boolean;
  /** LocalCommand (PermitLocalCommand yes), expanded: run after authentication, before the command. */
  localCommand?: string;
  /** ForwardAgent: the local agent socket this session forwards (ssh's rules: cli/agent-options.ts). */
  agent?: string;
  /** -R / RemoteForward: requested before the session starts, cancelled when it ends. */
  remoteForwards?: RemoteForwardsRequest;
  /** The server's banner was already shown (the daemon relayed it before handing over to us). */
  bannerShown?: boolean;
  /** -L/-D forwards: set up after authentication, on the pool's (or the daemon's) channels. */
  forwarding?: SshForwarding;
  /** -W: a stdio forward instead of a session. */
  stdioForward?: ChannelTarget;
  /**
   * `-v` given (ssh's debug_flag): a ProxyCommand keeps our stderr even with ControlPath and
   * ControlPersist set, where it would otherwise go to /dev/null (sshconnect.c ssh_proxy_connect).
   */
  debug?: boolean;
}

export interface RemoteForwardsRequest {
  readonly specs: readonly RemoteForwardSpec[];
  readonly options: RemoteForwardsOptions;
}

export interface SessionStdio {
  stdin: Readable | null;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A session the front waits on, whichever way it runs. */
export interface RunningSession {
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  /** The local terminal changed size (SIGWINCH): tell the remote pty. */
  resize(size: { rows: number; cols: number }): void;
  /** `~R`: a key re-exchange on the session's connection. */
  rekey?(): void;
  /** `~B`: a BREAK on the session's channel. */
  sendBreak?(lengthMs: number): void;
  /** Through the sshmux daemon (ssh's mux client): `~?` says `~.` ends this session only. */
  readonly multiplexed?: boolean;
  /** Release everything (pool, sockets); `abandon` when leaving a still-running command (signalled). */
  close(abandon?: boolean): Promise<void>;
}

/**
 * Run the command in this process on a pool of its own (`SSHMUX_NO_DAEMON=1`, no daemon, or
 * a question the daemon cannot ask). Host-key, passphrase, password and keyboard-interactive
 * prompts go to the controlling terminal or SSH_ASKPASS, as with OpenSSH.
 */
export async function startDirectSession(
  request: SshRequest,
  io: SessionStdio,
  logger: Logger,
): Promise<RunningSession> {
  const hostKeyVerifier = createHostKeyVerifier({ prompt: ttyHostKeyPrompt(), logger });
  const authProvider = createAuthProvider({
    passphrase: cliPassphraseSource(),
    prompter: cliAuthPrompter({ stderr: io.stderr, quiet: request.quiet === true }),
    logger,
  });
  // sshconnect2.c: the banner on stderr unless LogLevel is below INFO, made safe for the terminal.
  const onBanner = (message: string): void => {
    if (!request.quiet && !request.bannerShown && message !== '') io.stderr.write(terminalSafe(message));
  };
  const pool = new SshPool({
    logger,
    hostKeyVerifier,
    authProvider,
    onBanner,
    // With -v a ProxyCommand's stderr is always ours; otherwise the pool's default (as ssh's).
    ...(request.debug === true && {
      socketFactory: proxyJumpSocketFactory({
        hostKeyVerifier,
        authProvider,
        logger,
        onBanner,
        proxyCommand: { stderr: 'inherit' },
      }),
    }),
  });
  // With an agent to forward, the session (and its forwards) gets a connection of its own.
  const agentPath = request.agent;
  const host = agentPath === undefined ? request.host : agentSessionHost(request.host, 'local');
  try {
    if (request.localCommand !== undefined || request.forwarding) {
      await pool.check(host);
      await request.forwarding?.start((t, origin) => pool.openChannel(host, t, { origin }));
      if (request.localCommand !== undefined) await runLocalCommand(request.localCommand);
    }
    if (request.stdioForward) {
      const s = await startStdioForward(
        request.stdioForward,
        (t) => pool.openChannel(host, t),
        io,
        request.quiet === true,
      );
      return {
        ...s,
        close: async (abandon) => {
          await s.close(abandon);
          pool.destroy();
        },
      };
    }
    const rf = request.remoteForwards;
    const forwards =
      rf && rf.specs.length > 0
        ? await RemoteForwards.start(
            rf.specs,
            (bind, onOffer) => pool.listen(host, bind, onOffer),
            rf.options,
          )
        : undefined;
    if (request.kind === 'none') {
      // -N: no session; the held connection carries the forwards until we leave.
      const held = await heldDirect(pool, host);
      return {
        ...held,
        close: async (abandon) => {
          if (!abandon) await forwards?.close();
          await held.close(abandon);
        },
      };
    }
    const proc = await pool.spawn(host, request.command, {
      ...(agentPath !== undefined && { agent: () => connectAgent(agentPath) }),
      kind: request.kind,
      env: request.env,
      pty: request.pty,
    });
    proc.stdin.on('error', () => {
      // The remote closed its stdin early; its exit status says what happened.
    });
    if (io.stdin) {
      pipeline(io.stdin, proc.stdin).catch(() => {});
    } else {
      proc.stdin.end();
    }
    const exited = Promise.all([
      pipeline(proc.stdout, io.stdout as NodeJS.WritableStream, { end: false }),
      pipeline(proc.stderr, io.stderr as NodeJS.WritableStream, { end: false }),
      proc.exited,
    ]).then(([, , exit]) => exit);
    return {
      exited,
      resize: (size) => proc.resize(size),
      rekey: () => proc.rekey?.(),
      sendBreak: (ms) => proc.sendBreak?.(ms),
      close: async (abandon = false) => {
        io.stdin?.unpipe();
        if (!abandon) {
          await forwards?.close();
          await pool.close();
        }
        pool.destroy();
      },
    };
  } catch (err) {
    pool.destroy();
    throw err;
  }
}
