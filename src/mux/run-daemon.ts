import { openSync } from 'node:fs';
import { pino } from 'pino';
import { type Logger, REDACT_PATHS } from '../logger.js';
import { SshPool } from '../pool/ssh-pool.js';
import { createAuthProvider } from '../security/auth.js';
import { currentEnvironment, type MuxEndpoint, prepareEndpoint, selectEndpoint } from './endpoint.js';
import { MuxDaemon } from './mux-daemon.js';

/** Connections the daemon opens to one host at most. */
export const DAEMON_MAX_CONNECTIONS_PER_HOST = 4;

export interface RunDaemonOptions {
  endpoint?: MuxEndpoint;
  version: string;
  /** @default 60000 */
  persistMs?: number;
  /** pino level for `<dir>/daemon.log`. @default 'info' */
  logLevel?: string;
}

function daemonLogger(endpoint: MuxEndpoint, level: string): Logger {
  try {
    const fd = openSync(endpoint.logFile, 'a', 0o600);
    return pino(
      { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } },
      pino.destination({ fd, sync: true }),
    );
  } catch {
    return pino({ level: 'silent' });
  }
}

/**
 * The daemon process: bind the endpoint (or find it served and leave), serve until idle,
 * then close the pool. Resolves with the exit code the process should use.
 */
export async function runDaemon(options: RunDaemonOptions): Promise<number> {
  const env = currentEnvironment();
  const endpoint = options.endpoint ?? selectEndpoint(env);
  prepareEndpoint(endpoint, env);
  const logger = daemonLogger(endpoint, options.logLevel ?? 'info');
  // Host-key prompts never happen here: the pool's verifier has no TTY to ask on, so an
  // unknown key under `ask` fails and the client decides (see docs/git-and-windows.md).
  const persistMs = Math.min(options.persistMs ?? 60_000, 2 ** 31 - 1);
  let daemon: MuxDaemon | undefined;
  const pool = new SshPool({
    // A banner goes to the client(s) waiting for that connection, which print it as ssh would.
    onBanner: (message, host) => daemon?.notice(host.poolKey, message),
    logger,
    maxConnectionsPerHost: DAEMON_MAX_CONNECTIONS_PER_HOST,
    persist: persistMs,
    // A passphrase, password or keyboard-interactive turn ends the connect (code
    // SSHMUX_ERR_AUTH_PROMPT): the client then connects itself and asks as ssh would.
    authProvider: createAuthProvider({ logger, stopForPrompts: true }),
  });
  daemon = new MuxDaemon({
    endpoint,
    runner: pool,
    version: options.version,
    logger,
    persistMs,
  });
  // Detached with no stdio: a crash must at least leave a line in the log.
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'daemon crashed');
    process.exit(1);
  });
  const shutdown = (): void => void daemon.shutdown('signal');
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.once('SIGHUP', () => {});
  try {
    if ((await daemon.start()) === 'already-running') {
      logger.info('another daemon serves this endpoint; leaving');
      return 0;
    }
  } catch (err) {
    logger.error({ err }, 'daemon failed to start');
    return 1;
  }
  await daemon.done;
  return 0;
}
