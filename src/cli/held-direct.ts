import type { HostConfig } from '../config/host-config.js';
import type { SshPool } from '../pool/ssh-pool.js';
import { holdSession } from '../session/held-session.js';
import type { RunningSession } from './ssh-direct.js';

/** `-N` in-process: the pool holds the connection until we are told to leave or it drops. */
export async function heldDirect(pool: SshPool, host: HostConfig): Promise<RunningSession> {
  const session = await holdSession(pool, host);
  return {
    exited: session.exited.then(({ code, signal }) => ({ code, signal })),
    resize: () => {},
    close: async (abandon = false) => {
      await session.close();
      if (!abandon) await pool.close();
      pool.destroy();
    },
  };
}
