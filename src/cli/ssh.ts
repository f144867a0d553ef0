import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HostConfig } from '../config/host-config.js';
import { assertConnectable } from '../config/keyword-support.js';
import { logsAt } from '../config/log-level.js';
import { asSshLogLines, isSshConfigError, sshErrorText } from '../config/ssh-error.js';
import { formatSshG } from '../config/ssh-g.js';
import { ConfigError } from '../errors.js';
import { cliLogger, type Logger, silentLogger } from '../logger.js';
import { escapeCharByte } from '../session/escape-char.js';
import { forwardedAgent } from './agent-options.js';
import type { CliContext } from './context.js';
import { exitWhenDone } from './exit-now.js';
import {
  forkAfterAuthentication,
  isForkedChild,
  messagesSilenced,
  reportAuthenticated,
} from './fork-after-auth.js';
import { localTerminal, localTerminalSession } from './local-terminal.js';
import { dieBySignal } from './process-guard.js';
import { remoteForwardsRequest } from './remote-forward-options.js';
import { closedByRemote, sessionEnd } from './session-end.js';
import { lingerOnFatalSignals } from './session-linger.js';
import { planSession, wantsPty } from './session-options.js';
import { requestKind } from './session-request.js';
import { parseSshArgs, type SshArgs } from './ssh-args.js';
import { applySshChecks, warnMissingIdentities } from './ssh-checks.js';
import { environmentToSend, resolveSshHost } from './ssh-config.js';
import { runControl } from './ssh-control.js';
import type { RunningSession, SessionStdio, SshRequest } from './ssh-direct.js';
import { sshFailureText } from './ssh-failure.js';
import { forwardingRequest, logsErrors, stdioPlan } from './ssh-forwarding.js';
import { runQuery } from './ssh-query.js';
import { startSession } from './ssh-start.js';
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
      debug: args.verbosity > 0,
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
    if (!messagesSilenced(debugOnStderr))
      ctx.stderr.write(sshFailureText(err, quietLogging(args), errorsShown));
    logger.debug({ err }, 'ssh failed');
    return SSH_ERROR_EXIT;
  } finally {
    if (!stdinNull && process.stdin.readable) process.stdin.destroy();
  }
}

/**
 * Whether ssh's log is silent while it reads its files: -q, or an `-o LogLevel` of QUIET or
 * FATAL (ssh applies -o lines before it opens its log, so the first one decides).
 */
function quietLogging(args: SshArgs): boolean {
  if (args.quiet) return true;
  for (const item of args.items) {
    const text =
      item.kind === 'line' ? item.text : item.kind === 'option' ? `${item.key} ${item.value}` : undefined;
    const m = text === undefined ? null : /^\s*loglevel(?:\s*=\s*|\s+)"?([A-Za-z0-9]+)"?\s*$/i.exec(text);
    if (m) return ['quiet', 'fatal'].includes(m[1]!.toLowerCase());
  }
  return false;
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
  const restoreGuards = lingerOnFatalSignals(session);
  // Our reader went away (EPIPE): like ssh, leave now with 255; dropping the session makes the
  // daemon (or the pool) close the channel. Stays attached: late write errors are expected.
  (io.stdout as NodeJS.WriteStream).on?.('error', () => leaveNow('EPIPE'));
  terminal?.attach(session);
  let interrupted = false;
  /** We left first (a signal, EPIPE, `~.`): output still queued for a reader that stopped reading is dropped. */
  let leftFirst = false;
  try {
    const outcome = await Promise.race([session.exited, left]).catch((err: unknown) => {
      if (closedByRemote(err)) return 'lost';
      throw err;
    });
    terminal?.dispose();
    const end = sessionEnd(outcome, request);
    interrupted = end.abandon;
    leftFirst = typeof outcome === 'string' && outcome !== 'lost' && outcome !== 'background';
    // clientloop.c writes these to ssh's own stderr, which -f's fork pointed at /dev/null.
    if (end.message !== '' && !messagesSilenced(debugOnStderr)) io.stderr.write(end.message);
    return end.status;
  } finally {
    terminal?.dispose();
    for (const s of SESSION_SIGNALS) process.off(s, onSignal);
    restoreGuards();
    await session.close(interrupted);
    // ssh leaves at once (cleanup_exit); a write blocked on a full stdout pipe would keep Node alive.
    if (leftFirst) exitWhenDone();
  }
}
