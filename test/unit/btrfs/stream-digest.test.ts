import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  digestRecordPath,
  digestToken,
  parseDigest,
  receiveStage,
  sendStage,
  stripDigest,
} from '../../../src/btrfs/stream-digest.js';
import { describePosix } from '../../helpers/posix-only.js';

/**
 * A stand-in for btrfs: `receive -q -e DIR` makes DIR/$NAME and reads stdin, exiting $RC;
 * `subvolume show` says there is no Received UUID; `subvolume delete` removes the directory.
 */
const FAKE_BTRFS = [
  'case "$1" in',
  'receive) mkdir "$4/$NAME"; cat >/dev/null; [ "$RC" = 0 ] || echo oops >&2; exit "$RC";;',
  'subvolume) case "$2" in show) printf "\\tReceived UUID: \\t\\t-\\n";; delete) rm -r "$3";; esac;;',
  'esac',
].join('\n');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function run(argv: string[], input?: Buffer) {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? Buffer.alloc(0), maxBuffer: 1e8 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describePosix('sh, tee and sha256sum')('digest stage (real sh, tee, sha256sum)', () => {
  it('send: passes the bytes through, prints and records their digest, exits 0', () => {
    const data = randomBytes(300_000);
    const token = digestToken();
    const r = run(sendStage(token, ['cat']), data);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, data)).toBe(0);
    expect(parseDigest(r.stderr)).toBe(sha(data));
    expect(readFileSync(digestRecordPath(token, 'send'), 'utf8')).toBe(`${sha(data)}\n`);
    expect(stripDigest(r.stderr)).toBe('');
    rmSync(digestRecordPath(token, 'send'));
  });

  it('receive: digests what btrfs receive read; a failing one keeps its status, removes its partial, leaves no record', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-digest-'));
    const fake = ['env', 'NAME=snap', 'RC=0', 'sh', '-c', FAKE_BTRFS, 'btrfs'];
    try {
      const data = randomBytes(100_000);
      const ok = digestToken();
      const r = run(receiveStage(ok, dir, 'snap', fake), data);
      expect(r.code).toBe(0);
      expect(parseDigest(r.stderr)).toBe(sha(data));
      expect(existsSync(path.join(dir, 'snap'))).toBe(true);
      rmSync(digestRecordPath(ok, 'receive'));
      rmSync(path.join(dir, 'snap'), { recursive: true });

      const failing = fake.map((a) => (a === 'RC=0' ? 'RC=3' : a));
      const token = digestToken();
      const bad = run(receiveStage(token, dir, 'snap', failing), data);
      expect(bad).toMatchObject({ code: 3, stderr: 'oops\n' });
      // Its partial is gone, removed by the stage itself.
      expect(existsSync(path.join(dir, 'snap'))).toBe(false);
      expect(existsSync(digestRecordPath(token, 'receive'))).toBe(false);

      // Something of that name that was there before is never touched.
      mkdirSync(path.join(dir, 'snap'));
      writeFileSync(path.join(dir, 'snap', 'keep'), 'mine');
      const taken = run(receiveStage(digestToken(), dir, 'snap', failing), data);
      expect(taken.code).not.toBe(0);
      expect(readFileSync(path.join(dir, 'snap', 'keep'), 'utf8')).toBe('mine');

      const send = digestToken();
      const sendBad = run(sendStage(send, ['sh', '-c', 'cat >/dev/null; echo oops >&2; exit 4']), data);
      expect(sendBad).toMatchObject({ code: 4, stderr: 'oops\n' });
      expect(existsSync(digestRecordPath(send, 'send'))).toBe(false);
      // The scratch of a stage killed outright (its PID gone) is swept by the next stage.
      const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
      mkdirSync(`/tmp/sshmux-btrfs.${dead}.abcdef`);
      const live = `/tmp/sshmux-btrfs.${process.pid}.abcdef`;
      mkdirSync(live);
      const sweep = digestToken();
      run(sendStage(sweep, ['true']));
      rmSync(digestRecordPath(sweep, 'send'));
      expect(existsSync(`/tmp/sshmux-btrfs.${dead}.abcdef`)).toBe(false);
      expect(existsSync(live)).toBe(true);
      rmSync(live, { recursive: true });
      // Its scratch directory is gone either way.
      expect(
        execFileSync('sh', ['-c', 'ls /tmp | grep -c "^sshmux-btrfs\\." || true']).toString().trim(),
      ).toBe('0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
