import { isSshmuxError } from '../errors.js';
import { currentEnvironment, prepareEndpoint, selectEndpoint } from '../mux/endpoint.js';
import {
  connectDaemon,
  DaemonNotRunningError,
  sendControl,
  UntrustedEndpointError,
} from '../mux/mux-client.js';
import type { CliContext } from './context.js';
import type { SshArgs } from './ssh-args.js';
import { resolveSshHost } from './ssh-config.js';
import { VERSION } from './version.js';

/** ssh's status for its own failures (ssh.ts's SSH_ERROR_EXIT; importing it would be a cycle). */
const SSH_ERROR_EXIT = 255;

/** `-O check|exit|stop`, with OpenSSH's messages on stderr. */
export async function runControl(args: SshArgs, ctx: CliContext): Promise<number> {
  const env = currentEnvironment();
  const endpoint = selectEndpoint(env);
  prepareEndpoint(endpoint, env);
  let daemon: Awaited<ReturnType<typeof connectDaemon>>;
  try {
    // Any version: `-O exit` must be able to stop the daemon an older sshmux left running.
    daemon = await connectDaemon(endpoint, VERSION, { anyVersion: true });
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      ctx.stderr.write(`Control socket connect(${endpoint.socketPath}): no sshmux daemon is running\n`);
      return SSH_ERROR_EXIT;
    }
    // An endpoint that did not prove itself, or a pipe or socket that cannot be used (access
    // denied, an unexpected OS error): said plainly.
    if (
      err instanceof UntrustedEndpointError ||
      (isSshmuxError(err) && err.code === 'SSHMUX_ERR_MUX_CONNECT')
    ) {
      ctx.stderr.write(`Control socket connect(${endpoint.socketPath}): ${err.message}\n`);
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
