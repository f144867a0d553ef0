import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { HostConfig } from '../config/host-config.js';
import { runsLocalCommand } from '../config/jump-hosts.js';
import { assertConnectable } from '../config/keyword-support.js';
import { logsAt } from '../config/log-level.js';
import { asSshLogLines, isSshConfigError, sshErrorText } from '../config/ssh-error.js';
import { formatSshG } from '../config/ssh-g.js';
import { ConfigError, isSshmuxError } from '../errors.js';
import { cliLogger, type Logger, silentLogger } from '../logger.js';
import { openDaemonChannel } from '../mux/client-channel.js';
import { openDaemonSession } from '../mux/client-session.js';
import { currentEnvironment, type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../mux/endpoint.js';
import {
  connectDaemon,
  DaemonNotRunningError,
  DaemonReportedError,
  ensureDaemon,
  sendControl,
  spawnDaemon,
} from '../mux/mux-client.js';
import type { ChannelOrigin, ChannelTarget } from '../pool/channel-target.js';
import { askpassAllowed } from '../security/read-passphrase.js';
import { terminalSafe } from '../security/terminal-text.js';
import { escapeCharByte } from '../session/escape-char.js';
import { forwardedAgent, relayAgent } from './agent-options.js';
import type { CliContext } from './context.js';
import {
  forkAfterAuthentication,
  isForkedChild,
  messagesSilenced,
  reportAuthenticated,
} from './fork-after-auth.js';
import { runLocalCommand } from './local-command.js';
import { localTerminal, localTerminalSession } from './local-terminal.js';
import { dieBySignal } from './process-guard.js';
import { remoteForwardsRequest, startDaemonForwards } from './remote-forward-options.js';
import { closedByRemote, sessionEnd } from './session-end.js';
import { planSession, wantsPty } from './session-options.js';
import { requestKind } from './session-request.js';
import { parseSshArgs, type SshArgs } from './ssh-args.js';
import { applySshChecks, warnMissingIdentities } from './ssh-checks.js';
import { environmentToSend, hostForDaemon, MAX_PERSIST_SECONDS, resolveSshHost } from './ssh-config.js';
import type { RunningSession, SessionStdio, SshRequest } from './ssh-direct.js';
import { sshFailureText } from './ssh-failure.js';
import { forwardingRequest, logsErrors, stdioPlan } from './ssh-forwarding.js';
import { runQuery } from './ssh-query.js';
import { startStdioForward } from './ssh-stdio.js';
import { TTY_REFUSED, ttyRefusedNotice } from './tty-notice.js';
import { VERSION } from './version.js';

/** OpenSSH exits 255 for its own errors and when the remote command was killed by a signal. */
export const SSH_ERROR_EXIT = 255;

/** The signals ssh's session loop catches (clientloop.c); all others keep their default action. */
const SESSION_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;

/** `ssh -V`'s line, on stderr like OpenSSH's. */
export function sshVersionLine(): string {
  const require = createRequire(import.meta.url);
  const ssh2 = (require('ssh2/package.json') as { version: string }).version;
  return `sshmux_${VERSION} (OpenSSH-compatible front), ssh2 ${ssh2}, node ${process.version}\n`;
}

/** OpenSSH's exit status for a finished remote command. */
export function exitStatusOf(exit: { code: number | null; signal: string | null }): number {
  return exit.code ?? SSH_ERROR_EXIT;
}

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

/**
 * `sshmux ssh`: OpenSSH's command line, run through the per-user daemon (started on first
 * use) or in-process. Exits with the remote status; 255 for sshmux's own errors and for a
 * remote command killed by a signal, as ssh does.
 */
export async function runSshCli(
  argv: string[],
  ctx: CliContext,
  terminal: { stdinIsTty?: boolean } = {},
): Promise<number> {
  let args: SshArgs;
  try {
    args = parseSshArgs(argv);
  } catch (err) {
    ctx.stderr.write(
      isSshConfigError(err) ? (sshErrorText(err as ConfigError, false) ?? '') : `${(err as Error).message}\n`,
    );
    return SSH_ERROR_EXIT;
  }
  if (args.version) {
    ctx.stderr.write(sshVersionLine());
    return 0;
  }
  if (args.query !== undefined) return runQuery(args.query, ctx);
  const verbosity = ctx.verbosity + args.verbosity;
  const logger = args.quiet
    ? silentLogger()
    : verbosity !== ctx.verbosity
      ? cliLogger({ verbosity, json: ctx.logJson })
      : ctx.logger;
  // -n, or StdinNull from the configuration once it is read: stdin is then never touched.
  let stdinNull = args.nullStdin;
  // ssh's error() lines (a failed connect) are hidden by -q and by LogLevel QUIET or FATAL.
  let errorsShown = !args.quiet;
  // ssh -v logs to stderr; after -f's fork only then do its messages still show there.
  const debugOnStderr = args.verbosity > 0 && args.logFile === undefined;
  try {
    if (args.control) return await runControl(args, ctx);
    if (!args.printConfig && args.printOnly.length > 0) {
      throw new ConfigError(
        `option ${args.printOnly[0]} is not supported by sshmux when connecting (only with -G); use OpenSSH's ssh for it`,
      );
    }
    // ssh's log lines: to stderr, or appended to the -E file, as log.c does.
    const log = (line: string) => {
      if (args.logFile !== undefined) appendFileSync(args.logFile, asSshLogLines(line));
      else if (!messagesSilenced(debugOnStderr)) ctx.stderr.write(asSshLogLines(line));
    };
    const warn = (line: string) => {
      // The -f copy reads the same configuration: the foreground process has said this already.
      if (!args.quiet && !isForkedChild()) log(line);
    };
    if (!isForkedChild()) warnMissingIdentities(args, ctx.stderr);
    const stdinIsTty = terminal.stdinIsTty ?? process.stdin.isTTY === true;
    const host = applySshChecks(args, await resolveSshHost(args, process.cwd(), warn), warn, (h) => {
      if (!args.quiet && !isForkedChild() && ttyRefusedNotice(args, h, stdinIsTty)) log(TTY_REFUSED);
    });
    errorsShown &&= logsErrors(host);
    if (args.printConfig) {
      ctx.stdout.write(formatSshG(host));
      return 0;
    }
    // Refuse what sshmux cannot do before connecting (never for -G, which only prints).
    assertConnectable(host);
    // RemoteCommand (as -G printed it, tokens expanded), RequestTTY, StdinNull, LocalCommand.
    const stdio = host.stdioForward;
    const plan = stdio ? stdioPlan(args, host) : planSession(args, host);
    stdinNull = plan.stdinNull;
    // -f: a copy of us goes on in the background once authenticated (ssh.c fork_postauth).
    if (plan.fork && !isForkedChild()) return await forkAfterAuthentication();
    // ssh's "Pseudo-terminal will not be allocated" notice was printed by applySshChecks.
    const tty = wantsPty(plan, stdinIsTty);
    // ssh's INFO lines (retry notices, "Connection to … closed."): not with -q or LogLevel < INFO.
    const quiet = args.quiet || !logsInfo(host);
    const remoteForwards = remoteForwardsRequest(host, log, args.quiet, quiet);
    const agent = await forwardedAgent(host);
    const request: SshRequest = {
      host,
      ...(agent !== undefined && { agent }),
      ...(remoteForwards && { remoteForwards }),
      // No command: the login shell (a "shell" request); -s a subsystem; -N none.
      kind: requestKind(plan),
      command: plan.command,
      env: environmentToSend(host),
      pty: tty.pty ? localTerminal() : false,
      quiet,
      ...(plan.localCommand !== undefined && { localCommand: plan.localCommand }),
      ...forwardingRequest(host, stdio, (line) => {
        if (!args.quiet && logsErrors(host)) log(line);
      }),
    };
    const io: SessionStdio = {
      stdin: plan.stdinNull ? null : process.stdin,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
    };
    return await runSession(
      request,
      io,
      logger,
      escapeCharByte(host.effective?.get('escapechar')?.[0] ?? '~'),
      debugOnStderr,
    );
  } catch (err) {
    if (!messagesSilenced(debugOnStderr)) ctx.stderr.write(sshFailureText(err, args.quiet, errorsShown));
    logger.debug({ err }, 'ssh failed');
    return SSH_ERROR_EXIT;
  } finally {
    if (!stdinNull && process.stdin.readable) process.stdin.destroy();
  }
}

/** Whether ssh's LogLevel lets INFO messages through (QUIET, FATAL and ERROR do not). */
function logsInfo(host: HostConfig): boolean {
  return logsAt(host, 'INFO');
}

async function runSession(
  request: SshRequest,
  io: SessionStdio,
  logger: Logger,
  escapeChar: number | null,
  debugOnStderr: boolean,
): Promise<number> {
  let leaveNow: (why: string) => void = () => {};
  const left = new Promise<string>((resolve) => {
    leaveNow = resolve;
  });
  let multiplexed = false;
  const terminal = localTerminalSession(request, io, escapeChar, () => multiplexed, leaveNow);
  if (terminal) io = { ...io, stdin: terminal.input };
  // Until the session runs, a signal ends us by that signal, as it ends ssh (whose handlers are
  // set only once its session loop starts); the daemon drops a half-open session by itself.
  const onEarlySignal = (name: NodeJS.Signals): void => dieBySignal(name);
  for (const s of SESSION_SIGNALS) process.on(s, onEarlySignal);
  let session: RunningSession;
  try {
    session = await startSession(request, io, logger);
    if (request.forwarding) session = request.forwarding.hold(session);
    reportAuthenticated();
  } catch (err) {
    terminal?.dispose();
    // Listeners already open (the session failed after authentication) would keep us alive.
    request.forwarding?.close();
    throw err;
  } finally {
    for (const s of SESSION_SIGNALS) process.off(s, onEarlySignal);
  }
  multiplexed = session.multiplexed === true;
  // Left by `~.` or a signal, the session's end may still reject (connection dropped): expected.
  session.exited.catch(() => {});
  // Like ssh's session loop: SIGHUP, SIGINT, SIGQUIT and SIGTERM end the client with 255 at once.
  // Nothing is sent to the remote command: ssh closes the connection and so do we (the channel,
  // for the daemon), and the remote side sees what it sees with ssh (EOF, EPIPE, SIGHUP on a pty).
  const onSignal = (name: NodeJS.Signals): void => {
    logger.debug(`Killed by signal ${name}.`);
    leaveNow(name);
  };
  for (const s of SESSION_SIGNALS) process.on(s, onSignal);
  // Our reader went away (EPIPE): like ssh, leave now with 255; dropping the session makes the
  // daemon (or the pool) close the channel. Stays attached: late write errors are expected.
  (io.stdout as NodeJS.WriteStream).on?.('error', () => leaveNow('EPIPE'));
  terminal?.attach(session);
  let interrupted = false;
  try {
    const outcome = await Promise.race([session.exited, left]).catch((err: unknown) => {
      if (closedByRemote(err)) return 'lost';
      throw err;
    });
    terminal?.dispose();
    const end = sessionEnd(outcome, request);
    interrupted = end.abandon;
    // clientloop.c writes these to ssh's own stderr, which -f's fork pointed at /dev/null.
    if (end.message !== '' && !messagesSilenced(debugOnStderr)) io.stderr.write(end.message);
    return end.status;
  } finally {
    terminal?.dispose();
    for (const s of SESSION_SIGNALS) process.off(s, onSignal);
    await session.close(interrupted);
  }
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
    if (isSshmuxError(err) && err.code === 'SSHMUX_ERR_MUX_VERSION') throw err;
    // No daemon could start: say so quietly. A refused runtime dir or token is worth a warning.
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

/** `-O check|exit|stop`, with OpenSSH's messages on stderr. */
async function runControl(args: SshArgs, ctx: CliContext): Promise<number> {
  const env = currentEnvironment();
  const endpoint = selectEndpoint(env);
  prepareEndpoint(endpoint, env);
  let daemon: Awaited<ReturnType<typeof connectDaemon>>;
  try {
    daemon = await connectDaemon(endpoint, VERSION);
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      ctx.stderr.write(`Control socket connect(${endpoint.socketPath}): no sshmux daemon is running\n`);
      return SSH_ERROR_EXIT;
    }
    throw err;
  }
  const op = args.control!;
  let destination: string | undefined;
  if (op === 'check' && args.destination) {
    const host = await resolveSshHost(args);
    destination = `${host.user}@${host.hostname}:${host.port}`;
  }
  const result = await sendControl(daemon, { op, ...(destination && { destination }) });
  if (op === 'check') {
    const conns =
      destination === undefined ? '' : `, ${result.connections ?? 0} connection(s) to ${destination}`;
    ctx.stderr.write(`Master running (pid=${result.pid}${conns})\n`);
  } else if (op === 'exit') {
    ctx.stderr.write('Exit request sent.\n');
  } else {
    ctx.stderr.write('Stop listening request sent.\n');
  }
  return 0;
}

/** The in-process path loads ssh2 and the pool; the daemon path never needs them, so load on demand. */
async function startDirect(request: SshRequest, io: SessionStdio, logger: Logger): Promise<RunningSession> {
  const { startDirectSession } = await import('./ssh-direct.js');
  return startDirectSession(request, io, logger);
}
