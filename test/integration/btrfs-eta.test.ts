import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProgressEvent, type SshPool, sendSnapshot } from '../../src/index.js';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';

const MiB = 1024 * 1024;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The ETA the events gave 1 s after data began to flow and at half way, against the truth
 * (when the done event came). A rate-limited send makes the truth predictable: this checks the
 * estimate, not the machine's speed.
 */
function judge(label: string, events: ProgressEvent[]) {
  const end = events.at(-1)!;
  expect(end.done).toBe(true);
  const first = events.find((e) => e.bytes > 0)!;
  const at1s = events.find((e) => e.elapsedMs >= first.elapsedMs + 1_000 && !e.done)!;
  const half = events.find((e) => e.bytes >= end.bytes / 2 && !e.done)!;
  const truth = (e: ProgressEvent) => end.elapsedMs - e.elapsedMs;
  const line = (what: string, e: ProgressEvent) =>
    `${what}: ETA ${Math.round(e.etaMs ?? -1)} ms, truth ${Math.round(truth(e))} ms (ratio ${((e.etaMs ?? 0) / truth(e)).toFixed(2)})`;
  console.log(
    `${label}: stream ${end.bytes} bytes, estimated ${at1s.total} (${(at1s.total! / end.bytes).toFixed(4)})\n  ${line('after 1 s', at1s)}\n  ${line('half way', half)}`,
  );
  expect(at1s.etaMs).not.toBeNull();
  expect(at1s.etaMs!).toBeGreaterThanOrEqual(truth(at1s) / 2);
  expect(at1s.etaMs!).toBeLessThanOrEqual(truth(at1s) * 2);
  expect(Math.abs(half.etaMs! - truth(half))).toBeLessThanOrEqual(truth(half) * 0.2);
  // No wild first estimate: none above twice the whole transfer's duration.
  const whole = end.elapsedMs - first.elapsedMs;
  expect(events.filter((e) => e.etaMs !== null && e.etaMs > 2 * whole)).toEqual([]);
}

describe('btrfs ETA from the first second', () => {
  let sshd: StartedSshd;
  let pool: SshPool;

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true });
    pool = sshd.pool({ resolve: (dest) => sshd.hostConfig(dest) });
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/eta`);
  });

  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('is within a factor of 2 after 1 s and within 20 % at half way, full and incremental', async () => {
    const src = sshd.btrfs!.source;
    const vol = path.join(src, 'vol');
    const snaps = path.join(src, 'snaps');
    sh('btrfs', ['subvolume', 'create', vol]);
    mkdirSync(snaps);
    writeFileSync(path.join(vol, 'big.bin'), randomBytes(16 * MiB));
    mkdirSync(path.join(vol, 'many'));
    for (let i = 0; i < 300; i++) writeFileSync(path.join(vol, 'many', `f${i}`), randomBytes(i * 37));
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, path.join(snaps, 'a')]);
    // The incremental rewrites 10 MiB in the middle of the big file and adds one more.
    const fd = openSync(path.join(vol, 'big.bin'), 'r+');
    writeSync(fd, randomBytes(6 * MiB), 0, 6 * MiB, 4 * MiB);
    closeSync(fd);
    writeFileSync(path.join(vol, 'new.bin'), randomBytes(4 * MiB));
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, path.join(snaps, 'b')]);

    for (const [name, label] of [
      ['a', 'full'],
      ['b', 'incremental'],
    ] as const) {
      const events: ProgressEvent[] = [];
      const r = await sendSnapshot(pool, {
        source: path.join(snaps, name),
        target: `backup:${CONTAINER_BTRFS}/eta`,
        rateLimit: '5M',
        progressInterval: 100,
        onProgress: (e) => events.push(e),
      });
      expect(r.parent === null).toBe(label === 'full');
      judge(label, events);
    }
  });
});
