/**
 * `npm run soak`: the long fault soak. Builds the sshd image, starts one container (with
 * btrfs when this process can make loop filesystems), runs `runSoak`, prints the table and
 * exits 1 when any operation failed dirty or anything leaked.
 *
 * Environment: SOAK_SEED (default: time-based, printed), SOAK_SECONDS (default 240),
 * SOAK_OPERATIONS (default 2000), SOAK_RESTART_SECONDS (default 30).
 */
import { buildSshdImage } from '../helpers/build-image.js';
import { btrfsAvailable, startSshd } from '../helpers/sshd.js';
import { formatSoakTable, runSoak } from './soak.js';

const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const seconds = Number(process.env.SOAK_SECONDS ?? 240);
const btrfs = btrfsAvailable();
process.stderr.write(
  `soak: seed ${seed}, ${seconds} s, btrfs ${btrfs ? 'on' : 'off (needs root and btrfs-progs)'}\n`,
);
await buildSshdImage();
const sshd = await startSshd({ btrfs });
let failed = true;
try {
  const report = await runSoak(sshd, {
    seed,
    maxOperations: Number(process.env.SOAK_OPERATIONS ?? 2_000),
    durationMs: seconds * 1_000,
    restartEveryMs: Number(process.env.SOAK_RESTART_SECONDS ?? 30) * 1_000,
    btrfs,
    concurrency: 3,
    log: (line) => process.stderr.write(`soak: ${line}\n`),
  });
  process.stdout.write(`${formatSoakTable(report)}\n`);
  failed = report.failedDirty > 0 || report.leaked > 0;
} finally {
  await sshd.stop();
}
process.exitCode = failed ? 1 : 0;
