import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import { pull } from '../../src/pull/pull.js';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { cliConfig, makeRemoteTree, remoteSpec } from './manifest-env.js';
import { localListing, localSha, remoteListing, remoteSha } from './transfer-helpers.js';

const BIG_SIZE = 16 << 20;

describe('pull against a real sshd', () => {
  let sshd: StartedSshd;
  let cli: ReturnType<typeof cliConfig>;
  let scratch: string;
  let dst: string;
  const REMOTE = 'tree-src'; // makeRemoteTree does not quote its directory; the names inside are the hostile ones
  const remoteDir = `/home/backup/${REMOTE}`;
  const json = (stdout: Buffer) => JSON.parse(stdout.toString());

  beforeAll(async () => {
    sshd = await startSshd();
    cli = cliConfig(sshd);
    await makeRemoteTree(sshd, remoteDir, { SMALL: '40', SPARSE: '0' });
    await sshd.sh(
      `head -c ${BIG_SIZE} /dev/urandom > "${remoteDir}/big.bin" && chmod 640 "${remoteDir}/big.bin" && chown -R backup "${remoteDir}"`,
    );
    scratch = mkdtempSync(path.join(os.tmpdir(), 'sshmux-pull-'));
    dst = path.join(scratch, "pulled 'here'");
  });
  afterAll(async () => {
    await sshd?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('`sshmux pull --verify` copies the hostile tree, modes, mtimes and links; progress on stderr', async () => {
    const r = await runCli(['pull', ...cli.args, '--verify', '--json', remoteSpec(REMOTE), dst], {
      env: cli.env,
    });
    expect(r.stderr).toMatch(/^pull: \d+\/\d+ files, /m);
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out.verified).toBe(true);
    expect(out.symlinks.sort()).toEqual(['link', 'link-to-file']);
    expect(out.bytesReceived).toBeGreaterThanOrEqual(BIG_SIZE);
    expect(localSha(dst).equals(await remoteSha(sshd, remoteDir))).toBe(true);
    // Directory mtimes are not kept (as push): a directory's time changes as its entries arrive.
    const noDirTimes = (l: string[]) => l.map((e) => e.replace(/(\td \d+) \d+$/, '$1'));
    expect(noDirTimes(localListing(dst))).toEqual(noDirTimes(await remoteListing(sshd, remoteDir)));
  });

  it('a second run transfers 0 files; a touched remote file is the only one sent', async () => {
    const again = await runCli(['pull', ...cli.args, '--json', remoteSpec(REMOTE), dst], { env: cli.env });
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toMatchObject({ downloaded: [], bytesReceived: 0, deleted: [] });
    await sshd.sh(`touch -d '2001-02-03 04:05:06' "${remoteDir}/many/0/f39"`);
    const one = await runCli(['pull', ...cli.args, remoteSpec(REMOTE), dst], { env: cli.env });
    expect(one.code).toBe(0);
    expect(one.stdout.toString()).toMatch(/^1 file\(s\) received \(14 bytes\), 0 resumed, /);
    expect(Math.floor(statSync(path.join(dst, 'many/0/f39')).mtimeMs / 1000)).toBe(981173106);
  });

  it('removes local-only entries only with --delete', async () => {
    writeFileSync(path.join(dst, 'local only'), 'x');
    const keep = await runCli(['pull', ...cli.args, '--json', remoteSpec(REMOTE), dst], { env: cli.env });
    expect(json(keep.stdout).deleted).toEqual([]);
    expect(existsSync(path.join(dst, 'local only'))).toBe(true);
    const del = await runCli(
      ['pull', ...cli.args, '--delete', '--verify', '--json', remoteSpec(REMOTE), dst],
      {
        env: cli.env,
      },
    );
    expect(del.code).toBe(0);
    expect(json(del.stdout)).toMatchObject({ deleted: ['local only'], verified: true });
    expect(existsSync(path.join(dst, 'local only'))).toBe(false);
  });

  it('an aborted pull keeps the partial file and the next pull continues it', async () => {
    const fresh = path.join(scratch, 'fresh');
    const pool = sshd.pool();
    try {
      const ac = new AbortController();
      const first = pull(pool, { dest: sshd.hostConfig(), path: REMOTE }, fresh, {
        concurrency: 1,
        signal: ac.signal,
        rateLimit: 8 << 20,
        onProgress: (p) => {
          if (p.bytesDone >= 4 << 20) ac.abort();
        },
      });
      await expect(first).rejects.toBeInstanceOf(AbortedError);
      expect(existsSync(path.join(fresh, 'big.bin'))).toBe(false);
      expect(readdirSync(fresh)).toContain('.big.bin.sshmux-partial');
      const second = await pull(pool, { dest: sshd.hostConfig(), path: REMOTE }, fresh, { verify: true });
      console.log(
        `resumed pull: second run received ${second.bytesReceived} bytes, resumed ${second.resumed}`,
      );
      expect(second.resumed).toEqual(['big.bin']);
      expect(second.bytesReceived).toBeLessThan(BIG_SIZE);
      expect(second.verified).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a missing remote directory is an error with exit 2, like push', async () => {
    const r = await runCli(['pull', ...cli.args, remoteSpec('no such dir'), path.join(scratch, 'x')], {
      env: cli.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such dir/);
  });
});
