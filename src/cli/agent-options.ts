import type { HostConfig } from '../config/host-config.js';
import { sshConfigError } from '../config/ssh-error.js';
import { connectAgent } from '../forward/agent.js';
import { connectLocalTarget } from '../forward/local-target.js';
import { claim, type DaemonConnector } from '../mux/client-forward.js';
import { agentPathFor } from '../security/agent-path.js';

/** `$NAME` as ssh.c's valid_env_name accepts it. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The agent socket ssh 9.2 forwards for this host, or undefined when it forwards none (ssh.c):
 * ForwardAgent yes forwards `$SSH_AUTH_SOCK`, a path that path, `$NAME` the socket that variable
 * names (none when it is unset). As check_agent_present(), forwarding is off whenever
 * `$SSH_AUTH_SOCK` does not reach an agent, whatever ForwardAgent names; ssh.c has set that
 * variable from IdentityAgent by then (`none` unsets it).
 */
export async function forwardedAgent(
  host: Pick<HostConfig, 'effective' | 'identityAgent'>,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  const value = host.effective?.get('forwardagent')?.[0] ?? 'no';
  if (value === 'no') return undefined;
  let path: string | undefined;
  if (value === 'yes') path = undefined;
  else if (value.startsWith('$')) {
    if (!ENV_NAME.test(value.slice(1))) {
      throw sshConfigError(`Invalid ForwardAgent environment variable name ${value}`, { logged: true });
    }
    path = env[value.slice(1)];
    if (path === undefined) return undefined;
  } else path = value;
  const sock = agentPathFor(host, env, platform);
  if (sock === undefined || !(await reachable(sock))) return undefined;
  return path ?? sock;
}

async function reachable(socketPath: string): Promise<boolean> {
  try {
    (await connectAgent(socketPath)).destroy();
    return true;
  } catch {
    return false;
  }
}

/**
 * On the daemon path: each agent channel the daemon offers this session is connected to our
 * own agent socket (as ssh's client_request_agent does) and claimed; refused when the agent
 * cannot be reached, as ssh refuses the channel then.
 */
export function relayAgent(socketPath: string, connect: DaemonConnector) {
  return (id: string, refuse: () => void): void =>
    connectLocalTarget({ path: socketPath }, { accept: () => claim(connect, id), reject: refuse }, () => {
      // ssh logs nothing here above debug level.
    });
}
