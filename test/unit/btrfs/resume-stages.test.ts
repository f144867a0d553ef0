import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PREFIX_MISMATCH, skipStage, spoolStage } from '../../../src/btrfs/resume-stages.js';
import { describePosix } from '../../helpers/posix-only.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A stand-in for btrfs: `subvolume show` prints a UUID line (and the lines around it). */
const FAKE_BTRFS =
  'case "$1" in subvolume) printf "x\\n\\tParent UUID: \\t-\\n\\tUUID: \\t\\t0f1e-ab\\n\\tReceived UUID: \\t-\\n";; esac';
const BTRFS = ['sh', '-c', FAKE_BTRFS, 'btrfs'];
/**
 * A stand-in for the receive stage: makes the target directory, keeps what it read in $OUT,
 * exits $RC after a moment (a real receive takes a while; the partial's UUID is polled for).
 */
const RECEIVE = ['sh', '-c', 'mkdir "$T"; cat >"$OUT"; sleep 0.5; exit "$RC"', 'receive', ...BTRFS];

function run(argv: string[], input: Buffer, env: Record<string, string> = {}) {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input,
    maxBuffer: 1e8,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describePosix('sh, head, tee, flock and sha256sum')('resume stages (real sh and coreutils)', () => {
  let dir: string;
  let spool: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-resume-'));
    spool = path.join(dir, '.sshmux-resume', 'snap');
    mkdirSync(spool, { recursive: true });
    writeFileSync(path.join(spool, 'stream'), '');
    env = { T: path.join(dir, 'snap'), OUT: path.join(dir, 'received'), RC: '0' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('spool: the stage reads the stream, the spool keeps it up to the cap, the partial UUID is recorded', () => {
    const data = randomBytes(700_000);
    const r = run(spoolStage(spool, 0, 500_000, env.T!, BTRFS, RECEIVE), data, env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sha(readFileSync(env.OUT!))).toBe(sha(data));
    expect(sha(readFileSync(path.join(spool, 'stream')))).toBe(sha(data.subarray(0, 500_000)));
    expect(readFileSync(path.join(spool, 'partial'), 'utf8')).toBe('0f1e-ab\n');
  });

  it('spool resume: the stage reads spool + stdin (the whole stream), the spool grows, the status is the stage’s', () => {
    const data = randomBytes(600_000);
    writeFileSync(path.join(spool, 'stream'), data.subarray(0, 250_000));
    const r = run(spoolStage(spool, 250_000, 10_000_000, env.T!, BTRFS, RECEIVE), data.subarray(250_000), {
      ...env,
      RC: '4',
    });
    expect(r.code).toBe(4);
    expect(sha(readFileSync(env.OUT!))).toBe(sha(data));
    expect(sha(readFileSync(path.join(spool, 'stream')))).toBe(sha(data));
  });

  it('spool: a spool in use by a running transfer is not taken (exit 75)', () => {
    const holder = spawnSync(
      'flock',
      [path.join(spool, 'lock'), ...spoolStage(spool, 0, 10, env.T!, BTRFS, RECEIVE)],
      {
        input: Buffer.from('x'),
        env: { ...process.env, ...env },
      },
    );
    expect(holder.status).toBe(75);
    expect(holder.stderr.toString()).toMatch(/is in use by another transfer/);
  });

  it('skip: the sender regenerates the whole stream and writes only what follows a matching prefix', () => {
    const data = randomBytes(400_000);
    const r = run(skipStage(150_000, sha(data.subarray(0, 150_000)), ['cat']), data);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, data.subarray(150_000))).toBe(0);
  });

  it('skip: a prefix that differs writes nothing, says so and exits 3', () => {
    const data = randomBytes(400_000);
    const r = run(skipStage(150_000, sha(randomBytes(150_000)), ['cat']), data);
    expect(r.code).toBe(3);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toContain(`${PREFIX_MISMATCH} ${sha(data.subarray(0, 150_000))}`);
  });

  it('skip: the send stage’s failure is the status', () => {
    const data = randomBytes(1000);
    const r = run(skipStage(10, sha(data.subarray(0, 10)), ['sh', '-c', 'cat; exit 5']), data);
    expect(r.code).toBe(5);
  });
});
