import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  digestRecordPath,
  digestStage,
  digestToken,
  parseDigest,
  stripDigest,
} from '../../../src/btrfs/stream-digest.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function run(argv: string[], input?: Buffer) {
  const r = spawnSync(argv[0]!, argv.slice(1), { input: input ?? Buffer.alloc(0), maxBuffer: 1e8 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe('digest stage (real sh, tee, sha256sum)', () => {
  it('send: passes the bytes through, prints and records their digest, exits 0', () => {
    const data = randomBytes(300_000);
    const token = digestToken();
    const r = run(digestStage('send', token, ['cat']), data);
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, data)).toBe(0);
    expect(parseDigest(r.stderr)).toBe(sha(data));
    expect(readFileSync(digestRecordPath(token, 'send'), 'utf8')).toBe(`${sha(data)}\n`);
    expect(stripDigest(r.stderr)).toBe('');
    rmSync(digestRecordPath(token, 'send'));
  });

  it('receive: digests what the command read; a failing command keeps its status and leaves no record', () => {
    const data = randomBytes(100_000);
    const ok = digestToken();
    const r = run(digestStage('receive', ok, ['sh', '-c', 'cat >/dev/null']), data);
    expect(r.code).toBe(0);
    expect(parseDigest(r.stderr)).toBe(sha(data));
    rmSync(digestRecordPath(ok, 'receive'));
    for (const role of ['send', 'receive'] as const) {
      const token = digestToken();
      const bad = run(digestStage(role, token, ['sh', '-c', 'cat >/dev/null; echo oops >&2; exit 3']), data);
      expect(bad.code).toBe(3);
      expect(parseDigest(bad.stderr)).toBeNull();
      expect(bad.stderr).toBe('oops\n');
      expect(existsSync(digestRecordPath(token, role))).toBe(false);
    }
    // Its scratch directory is gone either way.
    expect(execFileSync('sh', ['-c', 'ls /tmp | grep -c "^sshmux-btrfs\\." || true']).toString().trim()).toBe(
      '0',
    );
  });
});
