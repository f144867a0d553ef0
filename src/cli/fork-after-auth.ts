import { spawn } from 'node:child_process';
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { dieBySignal } from './process-guard.js';

/**
 * Node cannot fork(), so `-f` re-runs this command line detached, with this variable telling
 * the copy that fd 3 is a pipe to the parent waiting for "authenticated". The copy removes it
 * from its environment as soon as this module loads, before anything (ProxyCommand,
 * LocalCommand, SendEnv) could pass it on.
 */
const MARKER = 'SSHMUX_INTERNAL_FORK_REPORT';
const REPORT_FD = 3;
const AUTHENTICATED = 'authenticated\n';

// Marked means "never fork again", even when fd 3 turns out not to be our pipe.
const forkedChild = process.env[MARKER] === String(REPORT_FD);
delete process.env[MARKER];
const reportPipe = forkedChild && isPipe(REPORT_FD);

/** Node's `'pipe'` stdio is a socket pair on POSIX and a named pipe on Windows. */
function isPipe(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isSocket() || st.isFIFO();
  } catch {
    return false;
  }
}

/** Whether this process is the background copy `-f` started (it must not fork again). */
export function isForkedChild(): boolean {
  return forkedChild;
}

let reported = false;

/**
 * Whether ssh's own messages go nowhere now: after the fork, fork_postauth() points stderr at
 * /dev/null (stdfd_devnull), except when ssh debug-logs to stderr (`-v`); the session's output
 * keeps its descriptors, and an -E log file keeps getting lines.
 */
export function messagesSilenced(debugOnStderr: boolean): boolean {
  return reported && !debugOnStderr;
}

/**
 * In the background copy: the session is up (authenticated; with forwards, once they are
 * confirmed), so the parent may exit 0 now, as ssh.c's fork_postauth() lets it. Idempotent.
 */
export function reportAuthenticated(): void {
  if (!reportPipe || reported) return;
  reported = true;
  try {
    writeSync(REPORT_FD, AUTHENTICATED);
    closeSync(REPORT_FD);
  } catch {
    // The parent is gone (killed): nobody waits for the news.
  }
}

const PARENT_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;

/**
 * `-f` in the foreground process: start the background copy (its own session, stdin from
 * /dev/null, stdout and stderr shared, as daemon(1, 1) leaves them) and wait. It prints its own
 * errors; we exit 0 once it is authenticated, else with its status. A signal before then ends
 * the copy too, as it would have ended ssh before its fork.
 */
export function forkAfterAuthentication(): Promise<number> {
  const [script, ...args] = process.argv.slice(1);
  const child = spawn(process.execPath, [...process.execArgv, script!, ...args], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [MARKER]: String(REPORT_FD) },
  });
  return new Promise((resolve) => {
    const pipe = child.stdio[REPORT_FD] as NodeJS.ReadableStream;
    let text = '';
    const onSignal = (name: NodeJS.Signals): void => {
      child.kill(name);
      dieBySignal(name);
    };
    const done = (status: number): void => {
      for (const s of PARENT_SIGNALS) process.off(s, onSignal);
      pipe.removeAllListeners('data');
      (pipe as unknown as { destroy(): void }).destroy();
      child.removeAllListeners('exit');
      child.unref();
      resolve(status);
    };
    for (const s of PARENT_SIGNALS) process.on(s, onSignal);
    pipe.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.startsWith(AUTHENTICATED)) done(0);
    });
    child.once('error', () => done(255));
    child.once('exit', (code) => done(code ?? 255));
  });
}
