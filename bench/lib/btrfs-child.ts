import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './endpoint.js';
import { USER } from './openssh.js';
import { DIST_INDEX } from './sshmux.js';

/** The btrfs scenarios' child process (children/btrfs-send.mjs): one replication over a new pool. */
export const BTRFS_CHILD = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../children/btrfs-send.mjs',
);

/** What the child replicates, on top of where it connects. */
export interface BtrfsChildJob {
  source: string;
  target: string;
  parent: string | null;
  mode?: 'pull';
}

/** The child's argv[2] object: the built package, the endpoint and its key, the cipher and the job. */
export function btrfsChildArgs(at: Endpoint, cipher: string, job: BtrfsChildJob): Record<string, unknown> {
  return {
    dist: DIST_INDEX,
    host: at.host,
    port: at.port,
    user: USER,
    key: at.keyPath,
    knownHosts: at.knownHostsFile,
    cipher,
    ...job,
  };
}
