import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { HostConfig } from '../config/host-config.js';
import { PAGEANT } from '../security/agent-path.js';

/**
 * The HostConfig a session forwarding an agent runs on: the same destination on a pooled
 * connection of its own (keyed by `owner`), closed as soon as it is idle. The server sets one
 * agent socket per connection and names no session when it opens an agent channel, so a
 * connection shared with sessions that did not forward this agent would expose it to them.
 */
export function agentSessionHost(host: HostConfig, owner: string): HostConfig {
  return Object.freeze({ ...host, poolKey: `${host.poolKey}\u0000agent:${owner}`, controlPersistSeconds: 0 });
}

/**
 * Connect to an agent socket (or, on Windows, the agent's named pipe, or Pageant: `pageant`
 * there is a stream that hands each request to ssh2's util/pagent.exe, as ssh2's own agent
 * does). Pageant has no connection to open: whether it runs shows at the first request.
 */
export async function connectAgent(socketPath: string): Promise<Duplex> {
  if (socketPath === PAGEANT && process.platform === 'win32') {
    // Loaded here: the daemon client names agents without loading ssh2.
    const { default: ssh2 } = await import('ssh2');
    return new Promise((resolve, reject) =>
      new ssh2.PageantAgent(PAGEANT).getStream((err, stream) => {
        if (err || !stream) return reject(err);
        // ssh2's stream never ends its reading side, so a relay to it would wait forever: end
        // it once every request is answered (a write completes when its answer has been read).
        stream.once('finish', () => stream.push(null));
        resolve(stream);
      }),
    );
  }
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

/** Whether Pageant answers a request (ssh's check_agent_present, for `pageant` on Windows). */
export async function pageantAnswers(): Promise<boolean> {
  const { default: ssh2 } = await import('ssh2');
  return new Promise((resolve) => new ssh2.PageantAgent(PAGEANT).getIdentities((err) => resolve(!err)));
}
