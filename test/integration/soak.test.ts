import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btrfsAvailable, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { formatSoakTable, runSoak } from '../soak/soak.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SEED = Number(process.env.SOAK_SEED ?? 20261121);

/**
 * The short fault soak (`npm run soak` runs the long one): ~75 s of mixed execs, echo spawns,
 * manifests, pushes, daemon sessions and (as root) btrfs sends through a seeded fault proxy,
 * with sshd restarts. Every operation must succeed verified or fail classified and clean.
 */
describe('fault soak (short)', () => {
  let sshd: StartedSshd;
  const btrfs = btrfsAvailable();
  beforeAll(async () => {
    // Daemon sessions run the built CLI.
    [sshd] = await Promise.all([
      startSshd({ btrfs }),
      new Promise<void>((resolve) =>
        execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT }, () => resolve()),
      ),
    ]);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('every operation under faults succeeds verified or fails classified, and nothing leaks', async () => {
    const report = await runSoak(sshd, {
      seed: SEED,
      maxOperations: 400,
      durationMs: 75_000,
      restartEveryMs: 25_000,
      btrfs,
      concurrency: 3,
    });
    const table = formatSoakTable(report);
    process.stderr.write(`${table}\n`);
    expect(report.operations).toBeGreaterThan(20);
    // Faults really happened and some work really got through.
    expect(report.faults.cut + report.faults.stalled + report.faults.slowed).toBeGreaterThan(0);
    expect(report.faults.restarts).toBeGreaterThanOrEqual(2);
    expect(report.succeeded).toBeGreaterThan(report.operations / 3);
    expect(report.dirty).toEqual([]);
    expect(report.leaks).toEqual([]);
    expect({ failedDirty: report.failedDirty, leaked: report.leaked }).toEqual({ failedDirty: 0, leaked: 0 });
  }, 300_000);
});
