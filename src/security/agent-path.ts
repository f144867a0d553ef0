import type { HostConfig } from '../config/host-config.js';
import { ConfigError } from '../errors.js';

// Kept free of ssh2 so the daemon client (sshmux ssh) can name the agent without loading it.

/** Win32-OpenSSH's agent pipe: where its ssh looks when `SSH_AUTH_SOCK` is not set. */
export const WINDOWS_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';

/**
 * The IdentityAgent / SSH_AUTH_SOCK value that selects PuTTY's Pageant on Windows (ssh2's
 * createAgent talks to it through the helper program ssh2 ships, util/pagent.exe).
 */
export const PAGEANT = 'pageant';

/**
 * Where the agent lives for a host, with OpenSSH's IdentityAgent semantics; undefined = none.
 * On Windows: a `\\.\pipe\…` name is an OpenSSH agent pipe, `pageant` is Pageant, and with
 * nothing set it is Win32-OpenSSH's {@link WINDOWS_AGENT_PIPE}. `pageant` elsewhere is refused:
 * there is no Pageant to reach, and a socket of that name would be a surprise.
 */
export function agentPathFor(
  host: Pick<HostConfig, 'identityAgent'>,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): string | undefined {
  const where = configuredAgent(host, env, platform);
  if (where === PAGEANT && platform !== 'win32') {
    throw new ConfigError(
      `IdentityAgent ${PAGEANT} selects PuTTY's Pageant, which exists only on Windows; on ${platform} name an agent socket, SSH_AUTH_SOCK or none`,
    );
  }
  return where;
}

function configuredAgent(
  host: Pick<HostConfig, 'identityAgent'>,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): string | undefined {
  const setting = host.identityAgent;
  if (setting === 'none') return undefined;
  if (setting !== undefined && setting !== 'SSH_AUTH_SOCK') {
    const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(setting);
    return variable?.[1] ? env[variable[1]] || undefined : setting;
  }
  const sock = env.SSH_AUTH_SOCK;
  if (sock) return sock;
  return platform === 'win32' ? WINDOWS_AGENT_PIPE : undefined;
}
