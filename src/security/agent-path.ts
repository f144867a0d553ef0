import type { HostConfig } from '../config/host-config.js';

// Kept free of ssh2 so the daemon client (sshmux ssh) can name the agent without loading it.

export const WINDOWS_AGENT_PIPE = '\\\\.\\pipe\\openssh-ssh-agent';

/** Where the agent lives for a host, with OpenSSH's IdentityAgent semantics; undefined = none. */
export function agentPathFor(
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
