// needs: root btrfs
// Send a read-only btrfs snapshot to a remote btrfs directory, verified; a second send is a no-op.
// expect: sent snap-1
// Local: SSHMUX_EXAMPLE_BTRFS_SOURCE, a directory on a local btrfs (a subvolume and its snapshot
// are made in it); remote: SSHMUX_EXAMPLE_BTRFS_TARGET, a directory on the remote btrfs.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SshPool, sendSnapshot } from 'sshmux';

const dest = process.env.SSHMUX_EXAMPLE_ROOT_DEST ?? 'demo-root';
const localDir = process.env.SSHMUX_EXAMPLE_BTRFS_SOURCE;
const remoteDir = process.env.SSHMUX_EXAMPLE_BTRFS_TARGET;
if (!localDir || !remoteDir)
  throw new Error('set SSHMUX_EXAMPLE_BTRFS_SOURCE and SSHMUX_EXAMPLE_BTRFS_TARGET');

const btrfs = (...args) => execFileSync('btrfs', args, { stdio: ['ignore', 'ignore', 'inherit'] });
const work = path.join(localDir, `example-${process.pid}`);
const snapshot = path.join(localDir, 'snap-1');
btrfs('subvolume', 'create', work);
execFileSync('sh', ['-c', 'echo "some data" > "$1/file.txt"', 'sh', work]);
btrfs('subvolume', 'snapshot', '-r', work, snapshot);

const pool = new SshPool();
try {
  const sent = await sendSnapshot(pool, { source: snapshot, target: `${dest}:${remoteDir}` });
  console.log(`${sent.status} ${sent.name}: ${sent.bytes} bytes in ${sent.durationMs} ms`);
  const again = await sendSnapshot(pool, { source: snapshot, target: `${dest}:${remoteDir}` });
  console.log(`second send: ${again.status}`);
  await pool.exec(dest, ['btrfs', 'subvolume', 'delete', `${remoteDir}/snap-1`], { check: true });
} finally {
  await pool.close();
  btrfs('subvolume', 'delete', snapshot);
  btrfs('subvolume', 'delete', work);
}
