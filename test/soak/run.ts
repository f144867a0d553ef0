/**
 * `npm run soak`: the fault soak. Builds the sshd image, starts one container (with btrfs when
 * this process can make loop filesystems), runs `runSoak`, prints the table and the summary line,
 * and exits 1 when any operation failed dirty, anything leaked or grew, or `--long` fell short of
 * 10,000 operations.
 *
 * `npm run soak -- --long`: 30 minutes through the fault proxy chained with the link emulator,
 * with forwards, scp, a filling tmpfs, SIGKILLed daemons and clients, and RSS/fd growth sampled.
 * `--seed=N` (or SOAK_SEED) replays a run: the seed decides the operation mix, sizes, faults and
 * kill moments (timing on a loaded machine still differs between runs).
 *
 * Environment: SOAK_SEED (default: time-based, printed), SOAK_SECONDS (default 240, long 1800),
 * SOAK_OPERATIONS (default 2000, long unbounded), SOAK_RESTART_SECONDS (default 30, long 60),
 * SOAK_CONCURRENCY (default 3, long 16).
 */
import { buildSshdImage } from '../helpers/build-image.js';
import { btrfsAvailable, startSshd } from '../helpers/sshd.js';
import { formatSoakTable, runSoak, summaryLine } from './soak.js';

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== '--long' && !/^--seed=\d+$/.test(a)) {
    process.stderr.write(`soak: unknown argument ${a} (use --long and --seed=N)\n`);
    process.exit(2);
  }
}
const long = args.includes('--long');
const seedArg = args.find((a) => a.startsWith('--seed='))?.slice('--seed='.length);
const seed = Number(seedArg ?? process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const env = (name: string, short: number, longDefault: number): number =>
  Number(process.env[name] ?? (long ? longDefault : short));
const seconds = env('SOAK_SECONDS', 240, 1_800);
const LONG_MIN_OPERATIONS = 10_000;
const btrfs = btrfsAvailable();
process.stderr.write(
  `soak: seed ${seed}${long ? ' (long)' : ''}, ${seconds} s, btrfs ${btrfs ? 'on' : 'off (needs root and btrfs-progs)'}; ` +
    `replay with: npm run soak --${long ? ' --long' : ''} --seed=${seed}\n`,
);
if (long && typeof (globalThis as { gc?: unknown }).gc !== 'function')
  process.stderr.write('soak: no --expose-gc: RSS samples are taken without a collection first\n');
await buildSshdImage();
const sshd = await startSshd({ btrfs });
let failed = true;
try {
  const report = await runSoak(sshd, {
    seed,
    maxOperations: env('SOAK_OPERATIONS', 2_000, Number.POSITIVE_INFINITY),
    durationMs: seconds * 1_000,
    restartEveryMs: env('SOAK_RESTART_SECONDS', 30, 60) * 1_000,
    btrfs,
    concurrency: env('SOAK_CONCURRENCY', 3, 16),
    ...(long && {
      long: {
        link: { rttMs: 20, upMbit: 50 },
        sampleEveryMs: 120_000,
        warmupMs: Math.min(180_000, (seconds * 1_000) / 5),
        growthLimits: { rssMb: 5, fds: 10 },
      },
    }),
    log: (line) => process.stderr.write(`soak: ${line}\n`),
  });
  process.stdout.write(`${formatSoakTable(report)}\n${summaryLine(report)}\n`);
  const short = long && seconds >= 1_800 && report.operations < LONG_MIN_OPERATIONS;
  if (short)
    process.stdout.write(`soak: only ${report.operations} operations, fewer than ${LONG_MIN_OPERATIONS}\n`);
  failed = report.failedDirty > 0 || report.leaked > 0 || report.grew.length > 0 || short;
} finally {
  await sshd.stop();
}
process.exitCode = failed ? 1 : 0;
