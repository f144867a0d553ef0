import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { shellCommand } from '../quote.js';
import { withRetry } from './with-retry.js';

/**
 * Ending a remote command for sure.
 *
 * Closing an exec channel does not end its process: OpenSSH keeps a command without a pty
 * running (it ends only if it reads stdin or writes output afterwards), and it refuses SSH
 * `signal` requests for root logins ("session signalling requires privilege separation").
 * A tracked command carries an exported `SSHMUX_JOB=<id>` that everything it starts inherits;
 * the kill script finds those processes through `/proc/PID/environ` on a second channel of the
 * same connection, sends the signal, and `KILL`s what is left after two seconds.
 */

const JOB_VARIABLE = 'SSHMUX_JOB';

/** A fresh job id: 16 hex digits, safe unquoted in any shell. */
export function newJobId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * `command` run by a `sh` that carries the job's marker from its start: an `export` alone
 * would reach only the shell's children, and `/proc/PID/environ` shows what a process was
 * started with.
 */
export function tagCommand(command: string, id: string): string {
  return `export ${JOB_VARIABLE}=${id}; exec ${shellCommand(['sh', '-c', command])}`;
}

/** Signal names the kill script accepts (the SSH names: no `SIG` prefix). */
const SIGNAL_NAME = /^[A-Z][A-Z0-9]*$/;

/**
 * The remote script that ends job `id`: `signal` to every process carrying the marker, then
 * `KILL` to those still there after 2 s. Exit 0 when none is left, 1 when some survived.
 */
export function killJobCommand(id: string, signal = 'TERM'): string {
  if (!/^[0-9a-f]{16}$/.test(id))
    throw new TypeError(`Expected a 16-hex-digit job id, got ${JSON.stringify(id)}`);
  const sig = SIGNAL_NAME.test(signal) ? signal : 'TERM';
  const script =
    `pids() { grep -lzxF "${JOB_VARIABLE}=$1" /proc/[0-9]*/environ 2>/dev/null | ` +
    `sed -e 's,^/proc/,,' -e 's,/environ$,,'; }; ` +
    'p=$(pids "$1"); [ -n "$p" ] || exit 0; kill -s "$2" $p 2>/dev/null; ' +
    'i=0; while [ $i -lt 20 ]; do sleep 0.1; p=$(pids "$1"); [ -n "$p" ] || exit 0; i=$((i+1)); done; ' +
    'kill -s KILL $p 2>/dev/null; sleep 0.2; [ -z "$(pids "$1")" ]';
  return shellCommand(['sh', '-c', script, 'sshmux-kill', id, sig]);
}

/**
 * Run the kill script for job `id` on a connection (a channel outside the pool's accounting:
 * it is short and must not wait behind the work it ends). A refused channel is retried a few
 * times (withRetry); then it is given up silently, since the caller's failure is already decided.
 */
export async function killJob(
  open: (command: string) => Promise<ClientChannel>,
  id: string,
  signal: string,
): Promise<boolean> {
  const command = killJobCommand(id, signal);
  let channel: ClientChannel;
  try {
    channel = await withRetry(() => open(command), { attempts: 4, minDelay: 250 });
  } catch {
    return false;
  }
  return new Promise<boolean>((resolve) => {
    let code: number | null = null;
    channel.on('exit', (c: number | null) => {
      code = c;
    });
    channel.on('error', () => {});
    channel.stderr.resume();
    channel.resume();
    channel.once('close', (c?: number | null) => resolve((typeof c === 'number' ? c : code) === 0));
    channel.end();
  });
}
