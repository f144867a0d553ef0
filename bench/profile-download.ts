/**
 * `npx tsx bench/profile-download.ts` (after `npm run build`): the diagnostics behind
 * bench/README.md's note on the download row — `download()` and `sftp -b get` of one file
 * (MB=512 MiB by default), alternated ROUNDS=3 times in one process, with wall time, this
 * process's CPU (user/sys) and sftp's (its ssh child included). NOSFTP=1 runs sshmux alone;
 * run it under `node --cpu-prof --import tsx` or `perf record` to see where the CPU goes.
 * Not part of `npm run bench`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSshdImage } from '../test/helpers/build-image.js';
import { startSshd } from '../test/helpers/sshd.js';
import { OpenSsh } from './lib/openssh.js';
import { run } from './lib/proc.js';
import { benchHostConfig, loadSshmux } from './lib/sshmux.js';

const MB = Number(process.env.MB ?? 512);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const cipher = 'aes128-gcm@openssh.com';
const cpuS = (us: number) => (us / 1e6).toFixed(2);

await buildSshdImage();
const sshd = await startSshd({ sshdOptions: [] });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'profile-download-'));
try {
  await sshd.sh(`head -c ${MB << 20} /dev/urandom > /home/backup/f.bin && chown backup: /home/backup/f.bin`);
  const sm = await loadSshmux();
  if (!sm.mod.SshPool || !sm.mod.download) throw new Error(sm.unavailable ?? 'dist/ has no download()');
  const ssh = new OpenSsh(sshd, tmp);
  const o = ssh.options(cipher);
  const i = o.indexOf('-p');
  const sftpOptions = [...o.slice(0, i), '-P', ...o.slice(i + 1)];
  const local = path.join(tmp, 'out.bin');
  const batch = path.join(tmp, 'batch');
  writeFileSync(batch, `get f.bin ${local}\n`);
  for (let r = 0; r < ROUNDS; r++) {
    let sftp = 'not run';
    if (!process.env.NOSFTP) {
      const t0 = performance.now();
      const res = await run(
        '/usr/bin/time',
        ['-f', 'user %U sys %S', '/usr/bin/sftp', ...sftpOptions, '-q', '-b', batch, ssh.target],
        { timeoutMs: 600_000 },
      );
      if (res.code !== 0) throw new Error(res.stderr);
      sftp = `${((performance.now() - t0) / 1000).toFixed(2)} s (cpu ${res.stderr.trim()})`;
      rmSync(local, { force: true });
    }
    const pool = new sm.mod.SshPool();
    try {
      const host = benchHostConfig(sm.mod, sshd, cipher);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await sm.mod.download(pool, host, 'f.bin', local, {});
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      console.log(
        `${MB} MiB round ${r + 1}: sshmux ${wall.toFixed(2)} s (cpu user ${cpuS(cpu.user)} sys ${cpuS(cpu.system)}), ` +
          `sftp ${sftp}, load ${os.loadavg()[0]!.toFixed(2)}`,
      );
    } finally {
      await pool.close();
      rmSync(local, { force: true });
    }
  }
} finally {
  await sshd[Symbol.asyncDispose]();
  rmSync(tmp, { recursive: true, force: true });
}
