import { fileURLToPath } from 'node:url';
import type { HostConfig } from '../config/host-config.js';
import { runsLocalCommand } from '../config/jump-hosts.js';
import type { Logger } from '../logger.js';
import { openDaemonChannel } from '../mux/client-channel.js';
import { openDaemonSession } from '../mux/client-session.js';
import { currentEnvironment, type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../mux/endpoint.js';
import {
  connectDaemon,
  DaemonNotRunningError,
  DaemonReportedError,
  ensureDaemon,
  spawnDaemon,
} from '../mux/mux-client.js';
import type { ChannelOrigin, ChannelTarget } from '../pool/channel-target.js';
import { askpassAllowed } from '../security/read-passphrase.js';
import { terminalSafe } from '../security/terminal-text.js';
import { relayAgent } from './agent-options.js';
import { runLocalCommand } from './local-command.js';
import { startDaemonForwards } from './remote-forward-options.js';
import { hostForDaemon, MAX_PERSIST_SECONDS } from './ssh-config.js';
import type { RunningSession, SessionStdio, SshRequest } from './ssh-direct.js';
import { startStdioForward } from './ssh-stdio.js';
import { VERSION } from './version.js';

// Where `sshmux ssh`'s session runs: through the per-user daemon (started on first use), or in
// this process when the daemon cannot serve it. scp and sftp open their sessions here too.

/** Seconds from SSHMUX_PERSIST or the config's ControlPersist; default 60. */
function persistSeconds(host: HostConfig | undefined): number {
  const env = process.env.SSHMUX_PERSIST;
  if (env !== undefined && /^\d+$/.test(env)) return Math.min(Number(env), MAX_PERSIST_SECONDS);
  const configured = host?.controlPersistSeconds;
  return configured === undefined ? 60 : Math.min(configured, MAX_PERSIST_SECONDS);
}

function daemonScript(): string {
  return fileURLToPath(new URL('./daemon.js', import.meta.url));
}

/** Through the daemon when possible, else in-process; see docs/git-and-windows.md for the rules. */
export async function startSession(
  request: SshRequest,
  io: SessionStdio,
  logger: Logger,
): Promise<RunningSession> {
  if (process.env.SSHMUX_NO_DAEMON === '1') return startDirect(request, io, logger);
  // A ProxyCommand or KnownHostsCommand belongs to this process (its env, directory, stderr): connect here.
  if (runsLocalCommand(request.host)) {
    logger.debug('ProxyCommand or KnownHostsCommand configured; connecting in-process');
    return startDirect(request, io, logger);
  }
  let endpoint: MuxEndpoint;
  let daemon: Awaited<ReturnType<typeof ensureDaemon>>;
  try {
    const env = currentEnvironment();
    endpoint = selectEndpoint(env);
    prepareEndpoint(endpoint, env);
    daemon = await ensureDaemon(endpoint, {
      version: VERSION,
      start: () =>
        spawnDaemon(
          daemonScript(),
          ['--runtime-dir', endpoint.dir, '--persist', String(persistSeconds(request.host))],
          endpoint.dir,
        ),
    });
  } catch (err) {
    // No daemon could start: say so quietly. A refused runtime dir or token, or a daemon of
    // another version (ssh falls back to a direct connection when its master speaks another mux
    // protocol), is worth a warning.
    if (err instanceof DaemonNotRunningError) logger.info({ err }, 'no sshmux daemon; connecting in-process');
    else logger.warn({ err }, 'not using the sshmux daemon; connecting in-process');
    return startDirect(request, io, logger);
  }
  logger.debug({ pid: daemon.pid, started: daemon.started }, 'relaying through the sshmux daemon');
  const local = request.localCommand;
  const daemonHost = { ...hostForDaemon(request.host) };
  const opener = (target: ChannelTarget, origin: ChannelOrigin = { address: '127.0.0.1', port: 65535 }) =>
    openDaemonChannel(endpoint, VERSION, daemonHost, target, origin);
  let bannerShown = false;
  const showNotice = (text: string): void => {
    // The server's banner, relayed: printed as the in-process path prints it (once).
    bannerShown = true;
    if (!request.quiet && text !== '') io.stderr.write(terminalSafe(text));
  };
  let forwards: Awaited<ReturnType<typeof startDaemonForwards>>;
  try {
    if (request.stdioForward) {
      // Each channel gets a daemon connection of its own; this one carries no session.
      daemon.conn.destroy();
      // Opened first, so LocalCommand runs after authentication, as ssh_session2 orders it.
      const opened = opener(request.stdioForward);
      await opened.catch(() => {});
      if (request.forwarding) await request.forwarding.start(opener);
      if (local !== undefined) await runLocalCommand(local);
      return await startStdioForward(request.stdioForward, () => opened, io, request.quiet === true);
    }
    forwards = await startDaemonForwards(request, () => connectDaemon(endpoint, VERSION), showNotice);
    const s = await openDaemonSession(
      daemon,
      {
        host: { ...hostForDaemon(request.host) },
        kind: request.kind,
        command: request.command,
        env: request.env,
        pty: request.pty,
        ...(request.agent !== undefined && { agent: true }),
        cwd: process.cwd(),
        ...((local !== undefined || request.forwarding) && { waitAfterAuth: true }),
      },
      io,
      local === undefined && !request.forwarding
        ? undefined
        : async () => {
            try {
              await request.forwarding?.start(opener);
            } catch (err) {
              // The daemon waits for PROCEED: hang up, so it drops the half-open session.
              daemon.conn.destroy();
              throw err;
            }
            if (local !== undefined) await runLocalCommand(local);
          },
      showNotice,
      request.agent === undefined
        ? undefined
        : relayAgent(request.agent, () => connectDaemon(endpoint, VERSION)),
    );
    // -N: the daemon holding the connection went away (-O exit, or it died): ssh's master exits 255, silently.
    const exited = request.kind === 'none' ? s.exited.catch(() => ({ code: null, signal: null })) : s.exited;
    return {
      exited,
      resize: (size) => s.resize(size),
      rekey: () => s.rekey(),
      sendBreak: (ms) => s.sendBreak(ms),
      close: async () => {
        s.close();
        await forwards?.close();
      },
      multiplexed: true,
    };
  } catch (err) {
    await forwards?.close();
    daemon.conn.destroy();
    // The daemon cannot ask questions: with a terminal (passphrases also through SSH_ASKPASS),
    // this process connects itself and asks.
    // A password or keyboard-interactive turn always comes here: ssh asks (or, with nobody to
    // ask, sends empty answers) and this process does exactly that.
    if (
      err instanceof DaemonReportedError &&
      (err.remote.code === 'SSHMUX_ERR_AUTH_PROMPT' ||
        (!request.host.batchMode &&
          ((err.remote.kind === 'host-key' && terminalAvailable()) ||
            (err.remote.kind === 'auth' && (terminalAvailable() || askpassAllowed())))))
    ) {
      logger.info({ err }, 'the daemon cannot prompt; connecting in-process');
      return startDirect({ ...request, bannerShown }, io, logger);
    }
    throw err;
  }
}

function terminalAvailable(): boolean {
  return process.stdin.isTTY === true || process.stderr.isTTY === true;
}

/** The in-process path loads ssh2 and the pool; the daemon path never needs them, so load on demand. */
async function startDirect(request: SshRequest, io: SessionStdio, logger: Logger): Promise<RunningSession> {
  const { startDirectSession } = await import('./ssh-direct.js');
  return startDirectSession(request, io, logger);
}
