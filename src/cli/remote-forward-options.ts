import type { HostConfig } from '../config/host-config.js';
import { logsAt } from '../config/log-level.js';
import { remoteOpenPolicy } from '../forward/remote-dynamic.js';
import { RemoteForwards } from '../forward/remote-forwards.js';
import { remoteForwardsOf } from '../forward/remote-spec.js';
import { type DaemonConnector, daemonListen } from '../mux/client-forward.js';
import { hostForDaemon } from './ssh-config.js';
import type { RemoteForwardsRequest, SshRequest } from './ssh-direct.js';

/**
 * The -R / RemoteForward forwards of a session, with ExitOnForwardFailure and ssh's logging:
 * logit() lines (allocated port, warnings) only at LogLevel INFO and up, error() lines unless
 * `-q` or LogLevel QUIET. Undefined when there are none.
 */
export function remoteForwardsRequest(
  host: HostConfig,
  log: (line: string) => void,
  quiet: boolean,
  belowInfo: boolean,
): RemoteForwardsRequest | undefined {
  const specs = remoteForwardsOf(host);
  if (specs.length === 0) return undefined;
  const silent = quiet || !logsAt(host, 'ERROR');
  return {
    specs,
    options: {
      exitOnFailure: host.effective?.get('exitonforwardfailure')?.[0] === 'yes',
      permitRemoteOpen: remoteOpenPolicy(host.effective?.get('permitremoteopen')),
      log: {
        info: (line) => {
          if (!belowInfo) log(line);
        },
        error: (line) => {
          if (!silent) log(line);
        },
      },
    },
  };
}

/** On the daemon path: the daemon listens on its pooled connection, this process reaches the targets. */
export async function startDaemonForwards(
  request: SshRequest,
  connect: DaemonConnector,
  onNotice: (text: string) => void,
): Promise<RemoteForwards | undefined> {
  const rf = request.remoteForwards;
  if (rf === undefined || rf.specs.length === 0) return undefined;
  // Several forwards may all wait for the same new connection: its banner is shown once.
  let shown = false;
  const once = (text: string): void => {
    if (!shown) onNotice(text);
    shown = true;
  };
  const host = { ...hostForDaemon(request.host) };
  return RemoteForwards.start(rf.specs, daemonListen(connect, host, once), rf.options);
}
