import { isSshmuxError } from '../errors.js';
import { DaemonReportedError } from '../mux/mux-client.js';
import { CONNECTION_LOST } from '../pool/remote-process.js';
import type { SshRequest } from './ssh-direct.js';

/** ssh.ts's SSH_ERROR_EXIT (ssh's own failures, a command killed by a signal); importing it would be a cycle. */
const SSH_ERROR_EXIT = 255;

/**
 * How a session ended: the remote exit, `lost` (the server side closed the connection), or why
 * we left first: a signal's name, `EPIPE`, or the terminal's `disconnect` (`~.`) / `background` (`~&`).
 */
export type SessionOutcome = { code: number | null; signal: string | null } | string;

/**
 * Whether a session ended because the server side of the connection went away (in-process, or
 * reported by the daemon), where ssh says "Connection to HOST closed by remote host."
 */
export function closedByRemote(err: unknown): boolean {
  if (err instanceof DaemonReportedError) return err.remote.code === CONNECTION_LOST;
  return isSshmuxError(err) && err.code === CONNECTION_LOST;
}

/** What ssh's client loop prints and exits with for each way a session ends (clientloop.c). */
export function sessionEnd(
  outcome: SessionOutcome,
  request: Pick<SshRequest, 'pty' | 'quiet' | 'host'> & Partial<Pick<SshRequest, 'kind'>>,
): { status: number; message: string; abandon: boolean } {
  const host = request.host.hostname;
  // A pty session ends with this line, unless LogLevel is below INFO.
  const closed = request.pty !== false && !request.quiet ? `Connection to ${host} closed.\r\n` : '';
  if (typeof outcome !== 'string') {
    return { status: outcome.code ?? SSH_ERROR_EXIT, message: closed, abandon: false };
  }
  switch (outcome) {
    case 'lost':
      // quit_message(): shown whatever the LogLevel, then the pty line as usual.
      return {
        status: SSH_ERROR_EXIT,
        message: `Connection to ${host} closed by remote host.\r\n${closed}`,
        abandon: true,
      };
    case 'background':
      // ssh's parent exits 0 at once; its child would report the end later.
      return { status: 0, message: '', abandon: false };
    case 'disconnect':
      return { status: SSH_ERROR_EXIT, message: closed, abandon: true };
    case 'SIGTERM':
      // clientloop.c: with no session (-N) there is no remote status, and SIGTERM was a deliberate end.
      return { status: request.kind === 'none' ? 0 : SSH_ERROR_EXIT, message: '', abandon: true };
    default:
      // A signal or EPIPE: leave at once, quietly, as ssh's cleanup_exit(255).
      return { status: SSH_ERROR_EXIT, message: '', abandon: true };
  }
}
