import type { DaemonRunner } from '../../../src/mux/mux-daemon.js';

/** A daemon pool for tests whose clients never get as far as running anything. */
export function unusedRunner(why = 'not used'): DaemonRunner {
  const unused = (): never => {
    throw new Error(why);
  };
  return {
    spawn: unused,
    exec: unused,
    sftp: unused,
    stats: () => ({ hosts: 0, connections: 0, openChannels: 0, queued: 0, perHost: [] }),
    close: async () => {},
    destroy: () => {},
  };
}
