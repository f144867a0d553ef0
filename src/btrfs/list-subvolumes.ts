import { parseRemotePath } from '../config/remote-path.js';
import { ConfigError } from '../errors.js';
import type { RemoteRunner } from '../pool/types.js';
import type { BtrfsHost } from './host.js';
import { hostError, subvolumesIn } from './inspect.js';
import { LocalHost } from './local-host.js';
import { probeHost } from './probe.js';
import { RemoteHost } from './remote-host.js';
import type { SubvolumeInfo } from './subvolume-show.js';

/** `dest:DIR` is remote, anything that does not parse as one (`/dir`, `./a:b`) is local. */
export function hostFor(pool: RemoteRunner, spec: string): { host: BtrfsHost; path: string } {
  try {
    const { dest, path } = parseRemotePath(spec);
    return { host: new RemoteHost(pool, dest), path };
  } catch (err) {
    if (err instanceof ConfigError) return { host: new LocalHost(), path: spec };
    throw err;
  }
}

/** The subvolumes directly inside `dest:DIR` or a local directory, oldest first (by creation generation). */
export async function listSubvolumes(
  pool: RemoteRunner,
  dir: string,
  options: { signal?: AbortSignal } = {},
): Promise<SubvolumeInfo[]> {
  const { host, path } = hostFor(pool, dir);
  const caps = await probeHost(host, options.signal);
  const r = await host.run(['test', '-d', path]);
  if (r.code !== 0) throw hostError(host, 'SSHMUX_ERR_BTRFS_MISSING', `${dir} is not a directory`);
  const list = await subvolumesIn(host, caps, path);
  return list.sort((a, b) => a.cgen - b.cgen || a.name.localeCompare(b.name));
}
