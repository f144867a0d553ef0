import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** Two loop-backed btrfs filesystems: `source` stays on the host, `destination` is bind-mounted into the container. */
export interface BtrfsPair {
  /** Host path of the source filesystem's mount point. */
  readonly source: string;
  /** Host path of the destination filesystem's mount point. */
  readonly destination: string;
  /** Make another filesystem (e.g. a fresh pull target); destroyed with the pair. */
  extra(name: string): string;
  /** Unmount, detach loops, remove image files. Safe to call twice. */
  destroy(): void;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeFs(dir: string, name: string, size: string): { mount: string; image: string } {
  const image = path.join(dir, `${name}.img`);
  const mount = path.join(dir, name);
  mkdirSync(mount, { recursive: true });
  run('truncate', ['-s', size, image]);
  run('mkfs.btrfs', ['-q', '-f', image]);
  // `-o loop` attaches with autoclear, so unmounting also frees the loop device.
  run('mount', ['-o', 'loop', image, mount]);
  return { mount, image };
}

function unmount(mount: string): void {
  for (let i = 0; i < 5; i++) {
    try {
      run('umount', [mount]);
      return;
    } catch {
      try {
        run('umount', ['-l', mount]);
        return;
      } catch {
        // busy: try again
      }
    }
  }
}

/** Create the pair under `dir` (host paths). */
export function createBtrfsPair(dir: string, size: string): BtrfsPair {
  const made: { mount: string; image: string }[] = [];
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const fs of made.reverse()) {
      unmount(fs.mount);
      rmSync(fs.image, { force: true });
    }
  };
  try {
    made.push(makeFs(dir, 'btrfs-src', size));
    made.push(makeFs(dir, 'btrfs-dst', size));
  } catch (err) {
    destroy();
    throw err;
  }
  return {
    source: made[0]!.mount,
    destination: made[1]!.mount,
    extra(name: string): string {
      const fs = makeFs(dir, `btrfs-${name}`, size);
      made.push(fs);
      return fs.mount;
    },
    destroy,
  };
}
