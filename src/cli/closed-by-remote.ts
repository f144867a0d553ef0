import { isSshmuxError } from '../errors.js';
import { DaemonReportedError } from '../mux/mux-client.js';
import { CONNECTION_LOST } from '../pool/remote-process.js';

/**
 * Whether a session ended because the server side of the connection went away (in-process, or
 * reported by the daemon), where ssh says "Connection to HOST closed by remote host."
 */
export function closedByRemote(err: unknown): boolean {
  if (err instanceof DaemonReportedError) return err.remote.code === CONNECTION_LOST;
  return isSshmuxError(err) && err.code === CONNECTION_LOST;
}
