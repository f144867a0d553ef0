import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HostConfig } from '../config/host-config.js';
import type { Logger } from '../logger.js';
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
  /** The server's banner was already shown (the daemon relayed it before handing over to us). */
  bannerShown?: boolean;
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
  const pool = new SshPool({
    logger,
    hostKeyVerifier: createHostKeyVerifier({ prompt: ttyHostKeyPrompt(), logger }),
    authProvider: createAuthProvider({
      passphrase: cliPassphraseSource(),
      prompter: cliAuthPrompter({ stderr: io.stderr, quiet: request.quiet === true }),
      logger,
    }),
    // sshconnect2.c: the banner on stderr unless LogLevel is below INFO, made safe for the terminal.
    onBanner: (message) => {
      if (!request.quiet && !request.bannerShown && message !== '') io.stderr.write(terminalSafe(message));
    },
  });
  try {
    if (request.localCommand !== undefined) {
      await pool.check(request.host);
      await runLocalCommand(request.localCommand);
    }
    if (request.kind === 'none') return await heldDirect(pool, request.host);
    const proc = await pool.spawn(request.host, request.command, {
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
      close: async (abandon = false) => {
        io.stdin?.unpipe();
        if (!abandon) await pool.close();
        pool.destroy();
      },
    };
  } catch (err) {
    pool.destroy();
    throw err;
  }
}
