// Compare a local tree with a remote one by SHA-256 manifests (sha256sum-compatible).
// expect: identical: 2, mismatched: 0, missing: 0, extra: 0
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compareManifests, localManifest, remoteManifest, SshPool } from 'sshmux';

const dest = process.env.SSHMUX_EXAMPLE_DEST ?? 'demo';
const scratch = await mkdtemp(path.join(process.env.SSHMUX_EXAMPLE_SCRATCH ?? os.tmpdir(), 'manifest-'));
const remoteDir = `sshmux-example-manifest-${process.pid}`; // relative: under the login's home
const pool = new SshPool();
try {
  const files = { 'a.txt': 'alpha\n', 'name with spaces.txt': 'beta\n' };
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(scratch, name), text);
  // The same files on the remote side, written through a remote shell from argv.
  const script = Object.entries(files)
    .map(([name, text]) => `printf '%s' '${text}' > '${name}'`)
    .join('; ');
  await pool.exec(dest, ['sh', '-c', `mkdir -p "$1" && cd "$1" && ${script}`, 'sh', remoteDir], {
    check: true,
  });

  const [local, remote] = await Promise.all([
    localManifest(scratch),
    remoteManifest(pool, `${dest}:${remoteDir}`),
  ]);
  const { identical, mismatched, missing, extra } = compareManifests(local, remote);
  console.log(
    `identical: ${identical.length}, mismatched: ${mismatched.length}, missing: ${missing.length}, extra: ${extra.length}`,
  );
  await pool.exec(dest, ['rm', '-rf', '--', remoteDir], { check: true });
} finally {
  await pool.close();
  await rm(scratch, { recursive: true, force: true });
}
