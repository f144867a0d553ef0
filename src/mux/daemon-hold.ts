import type { HostConfig } from '../config/host-config.js';
import { ConfigError } from '../errors.js';
import { type ConnectionHolder, type HeldSession, holdSession } from '../session/held-session.js';
import type { FramedSocket } from './framed-socket.js';

/**
 * `-N` through the daemon: hold a pooled connection for the client. Undefined when the client
 * left while it was being set up (then nothing stays held).
 */
export async function holdForClient(
  runner: Partial<ConnectionHolder>,
  host: HostConfig,
  conn: FramedSocket,
): Promise<HeldSession | undefined> {
  if (runner.hold === undefined) throw new ConfigError('this sshmux daemon cannot hold connections (-N)');
  const session = await holdSession(runner as ConnectionHolder, host);
  if (!conn.closed) return session;
  await session.close();
  return undefined;
}
