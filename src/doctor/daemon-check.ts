import { isSshmuxError } from '../errors.js';
import type { MuxEndpoint } from '../mux/endpoint.js';
import { connectDaemon, DaemonNotRunningError, sendControl } from '../mux/mux-client.js';
import { check, type DoctorCheck } from './types.js';

/** What the daemon check needs: where the daemon lives, the client's version, the environment. */
export interface DaemonCheckOptions {
  readonly endpoint: MuxEndpoint;
  /** This client's sshmux version: a daemon of another one refuses it. */
  readonly version: string;
  readonly env: NodeJS.ProcessEnv;
  /** `user@host:port` to count the daemon's connections to, when a destination was given. */
  readonly destination?: string | undefined;
}

const VERSION_MISMATCH = 'SSHMUX_ERR_MUX_VERSION';

/** The daemon behind `sshmux ssh`: running, its version, pid and sessions; where its socket and log are. */
export async function daemonCheck(o: DaemonCheckOptions): Promise<DoctorCheck> {
  const ep = o.endpoint;
  const where = { socket: ep.socketPath, log: ep.logFile, dir: ep.dir, namedPipe: ep.isNamedPipe };
  const at = `${ep.isNamedPipe ? 'pipe' : 'socket'} ${ep.socketPath}, log ${ep.logFile}`;
  const disabled = o.env.SSHMUX_NO_DAEMON === '1';
  try {
    const daemon = await connectDaemon(ep, o.version);
    const result = await sendControl(daemon, {
      op: 'check',
      ...(o.destination !== undefined && { destination: o.destination }),
    });
    const conns =
      o.destination === undefined ? '' : `, ${result.connections ?? 0} connection(s) to ${o.destination}`;
    return check({
      section: 'daemon',
      id: 'daemon',
      status: 'ok',
      summary:
        `running: sshmux ${result.version}, pid ${result.pid}, ${result.sessions} session(s)${conns}; ${at}` +
        (disabled ? ' (unused here: SSHMUX_NO_DAEMON=1)' : ''),
      data: { ...where, running: true, pid: result.pid, version: result.version, sessions: result.sessions },
    });
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      return check({
        section: 'daemon',
        id: 'daemon',
        status: 'ok',
        summary: disabled
          ? `not running, and not used: SSHMUX_NO_DAEMON=1 makes \`sshmux ssh\` connect in-process; ${at}`
          : `not running: the first \`sshmux ssh\` starts it; ${at}`,
        data: { ...where, running: false, disabled },
      });
    }
    const mismatch = isSshmuxError(err) && err.code === VERSION_MISMATCH;
    const message = (err as Error).message;
    return check({
      section: 'daemon',
      id: 'daemon',
      status: 'fail',
      summary: mismatch
        ? `a daemon of another version serves ${ep.socketPath}: ${message}`
        : `the daemon at ${ep.socketPath} does not work: ${message}`,
      advice: mismatch
        ? 'daemon of another version: stop it with `sshmux ssh -O exit` run by the sshmux of that version ' +
          `(or end the process serving ${ep.socketPath}); the next \`sshmux ssh\` starts this version's daemon`
        : `see its log ${ep.logFile}; stopping it (\`sshmux ssh -O exit\`) lets the next \`sshmux ssh\` start a fresh one`,
      data: {
        ...where,
        running: true,
        error: { code: isSshmuxError(err) ? err.code : undefined, message },
        versionMismatch: mismatch,
      },
    });
  }
}
