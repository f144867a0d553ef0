import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HostConfig } from '../config/host-config.js';

/**
 * The HostConfig a session forwarding an agent runs on: the same destination on a pooled
 * connection of its own (keyed by `owner`), closed as soon as it is idle. The server sets one
 * agent socket per connection and names no session when it opens an agent channel, so a
 * connection shared with sessions that did not forward this agent would expose it to them.
 */
export function agentSessionHost(host: HostConfig, owner: string): HostConfig {
  return Object.freeze({ ...host, poolKey: `${host.poolKey}\u0000agent:${owner}`, controlPersistSeconds: 0 });
}

/** Connect to an agent socket (or, on Windows, the agent's named pipe). */
export function connectAgent(socketPath: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}
