/**
 * The demo with a Docker engine: the bundled OpenSSH sshd container (and btrfs when root),
 * through the built package. Unchanged from what `npm run demo` always did.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostConfig, SshPool } from '../../src/index.js';
import { buildSshdImage } from '../../test/helpers/build-image.js';
import { btrfsAvailable, CONTAINER_BTRFS, type StartedSshd, startSshd } from '../../test/helpers/sshd.js';
import { loadBuiltPackage, ms, type Sshmux, say } from './report.js';

export async function dockerDemo(): Promise<void> {
  const sshmux = await loadBuiltPackage();
  say('sshmux demo: building the sshd image from Dockerfile.sshd …');
  await buildSshdImage();
  const withBtrfs = btrfsAvailable();
  await using sshd = await startSshd({ btrfs: withBtrfs });
  say(`sshd container listening on 127.0.0.1:${sshd.port} (MaxSessions 10, MaxStartups 10:30:100)`);

  // A user's ssh_config, exactly as OpenSSH would read it: alias `demo` → the container's `backup`.
  const configFile = sshd.writeSshConfig('demo');
  const resolve = (dest: string): Promise<HostConfig> => sshmux.resolveHostConfig(dest, { configFile });
  await using pool = new sshmux.SshPool({ resolve });

  await manyCommands(pool, sshd, 50);
  await manyCommands(pool, sshd, 200);
  await warmLatency(pool);
  if (withBtrfs) await btrfsReplication(sshmux, pool, sshd);
  else say('btrfs: skipped (needs root and btrfs-progs; run scripts/setup-test-host.sh)');
  await manifests(sshmux, pool, sshd);
  say('demo: done');
}

async function manyCommands(pool: SshPool, sshd: StartedSshd, n: number): Promise<void> {
  const logins = await sshd.countLogins();
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      pool.exec('demo', ['sh', '-c', `sleep 0.2; echo ${i}`], { encoding: 'utf8' }),
    ),
  );
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.exitCode === 0).length;
  const newLogins = (await sshd.countLogins()) - logins;
  const open = pool.stats().openChannels;
  say(
    `${n} commands at once: ${ok}/${n} succeeded in ${ms(t0)} over ${pool.stats().connections} connection(s), ` +
      `${newLogins} new login(s); open channels afterwards: ${open}`,
  );
  if (ok !== n) throw new Error(`only ${ok} of ${n} commands succeeded`);
}

async function warmLatency(pool: SshPool): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) await pool.exec('demo', ['true'], { check: true });
  say(
    `100 sequential commands on the warm connection: ${((performance.now() - t0) / 100).toFixed(1)} ms each`,
  );
}

async function btrfsReplication(sshmux: Sshmux, pool: SshPool, sshd: StartedSshd): Promise<void> {
  const src = sshd.btrfs!.source;
  const vol = path.join(src, 'data');
  const run = (...args: string[]): string => execFileSync('btrfs', args, { encoding: 'utf8' });
  run('subvolume', 'create', vol);
  writeFileSync(path.join(vol, 'a.txt'), 'first version\n');
  run('subvolume', 'snapshot', '-r', vol, path.join(src, 'data.1'));
  const full = await sshmux.sendSnapshot(pool, {
    source: path.join(src, 'data.1'),
    target: `demo:${CONTAINER_BTRFS}`,
  });
  say(
    `btrfs full send as backup (sudo -n btrfs): ${full.bytes} bytes, received UUID verified: ${full.received.receivedUuid}`,
  );
  writeFileSync(path.join(vol, 'b.txt'), 'added later\n');
  run('subvolume', 'snapshot', '-r', vol, path.join(src, 'data.2'));
  const inc = await sshmux.sendSnapshot(pool, {
    source: path.join(src, 'data.2'),
    target: `demo:${CONTAINER_BTRFS}`,
  });
  say(
    `btrfs incremental send: ${inc.bytes} bytes, parent chosen automatically: ${inc.parent ?? 'none'} (${inc.reason})`,
  );
}

async function manifests(sshmux: Sshmux, pool: SshPool, sshd: StartedSshd): Promise<void> {
  await sshd.sh(
    'mkdir -p /home/backup/tree/sub && cd /home/backup/tree && printf one > "a file" && printf two > sub/b && ' +
      'printf three > "new\nline" && chown -R backup:backup /home/backup/tree',
  );
  const local = path.join(sshd.tmpDir, 'tree');
  execFileSync('mkdir', ['-p', path.join(local, 'sub')]);
  writeFileSync(path.join(local, 'a file'), 'one');
  writeFileSync(path.join(local, 'sub', 'b'), 'two');
  writeFileSync(path.join(local, 'new\nline'), 'three');
  const [remote, mine] = await Promise.all([
    sshmux.remoteManifest(pool, 'demo:tree'),
    sshmux.localManifest(local),
  ]);
  const diff = sshmux.compareManifests(mine, remote);
  say(
    `manifests: ${remote.size} remote files hashed in one exec; identical: ${diff.identical.length}, ` +
      `missing: ${diff.missing.length}, extra: ${diff.extra.length}, mismatched: ${diff.mismatched.length}`,
  );
  if (diff.identical.length !== 3) throw new Error('manifests differ');
}
