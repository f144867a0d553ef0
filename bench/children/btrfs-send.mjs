// Child process for the btrfs scenarios: one sendSnapshot (or, with mode 'pull', pullSnapshot) over a new pool, timed from the call
// to its result, with this process's own CPU (not btrfs send's), as the OpenSSH side times the
// ssh process alone. Prints one JSON line {ms, cpuSec, bytes}.
// argv[2]: JSON { dist, host, port, user, key, knownHosts, cipher, source, target, parent, mode? }.
import { benchHost } from './bench-host.mjs';

const opts = JSON.parse(process.argv[2]);
const { sshmux, host } = await benchHost(opts);
const { SshPool } = sshmux;
const replicate = opts.mode === 'pull' ? sshmux.pullSnapshot : sshmux.sendSnapshot;

const pool = new SshPool({ resolve: () => host });
try {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await replicate(pool, { source: opts.source, target: opts.target, parent: opts.parent });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ ms, cpuSec: (cpu.user + cpu.system) / 1e6, bytes: r.bytes })}\n`);
} finally {
  await pool.close();
}
