import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import { download, upload } from '../../src/transfer/transfer.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { containerBytes } from './manifest-env.js';
import { eventually } from './pool-helpers.js';
import {
  BIG,
  BIG_SIZE,
  LONG,
  localListing,
  localSha,
  makeTransferTree,
  remoteListing,
  remoteSha,
} from './transfer-helpers.js';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('upload and download against a real sshd', () => {
  let sshd: StartedSshd;
  let src: string;
  let scratch: string;
  const REMOTE = "up -'tree'";
  const remoteDir = `/home/backup/${REMOTE}`;

  beforeAll(async () => {
    sshd = await startSshd();
    src = makeTransferTree();
    scratch = mkdtempSync(path.join(os.tmpdir(), 'sshmux-xfer-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (src) rmSync(path.dirname(src), { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const noSftpServer = () =>
    eventually(async () => (await sshd.processes('sftp-server')).length === 0, 10_000, 'no sftp-server left');

  it('uploads the hostile tree byte-identically, with modes, mtimes and symlinks', async () => {
    const pool = sshd.pool();
    try {
      const seen: number[] = [];
      const r = await upload(pool, sshd.hostConfig(), src, REMOTE, {
        onProgress: (p) => seen.push(p.filesDone),
      });
      expect(r.files).toBe(localSha(src).toString('latin1').split('\n').filter(Boolean).length);
      expect(r.symlinks).toBe(2);
      expect(r.bytesTransferred).toBeGreaterThanOrEqual(BIG_SIZE);
      expect(seen.at(-1)).toBe(r.files);
    } finally {
      await pool.close();
    }
    expect((await remoteSha(sshd, remoteDir)).equals(localSha(src))).toBe(true);
    const mine = localListing(src);
    expect(mine.some((l) => l.startsWith(`${LONG}\t`))).toBe(true);
    expect(mine.some((l) => l.startsWith('latin1-\xe9t\xe9-\xff\t'))).toBe(true);
    expect(mine).toContain('link\tl -> target with space');
    expect(mine.find((l) => l.startsWith('private dir/script -x\t'))).toMatch(/\tf 751 16\d{8}$/);
    expect(mine.find((l) => l.startsWith('private dir\t'))).toMatch(/\td 700 16\d{8}$/);
    expect(await remoteListing(sshd, remoteDir)).toEqual(mine);
    await noSftpServer();
  });

  it('downloads it back byte-identically, with modes, mtimes and symlinks', async () => {
    const back = path.join(scratch, 'back');
    const pool = sshd.pool();
    try {
      const r = await download(pool, sshd.hostConfig(), Buffer.from(REMOTE), back);
      expect(r.symlinks).toBe(2);
      expect(r.skipped).toEqual([]);
    } finally {
      await pool.close();
    }
    expect(localSha(back).equals(localSha(src))).toBe(true);
    expect(localListing(back)).toEqual(localListing(src));
  });

  it("symlinks: 'follow' copies what a link points to, 'skip' leaves links out; both list what they left", async () => {
    const pool = sshd.pool();
    try {
      const followed = path.join(scratch, 'followed');
      const f = await download(pool, sshd.hostConfig(), REMOTE, followed, { symlinks: 'follow' });
      // `link` points nowhere ('target with space' does not exist); `link-to-file` is a file.
      expect(f.skipped.map(String)).toEqual(['link']);
      expect(f.symlinks).toBe(0);
      expect(lstatSync(path.join(followed, 'link-to-file')).isFile()).toBe(true);
      expect(readFileSync(path.join(followed, 'link-to-file'), 'utf8')).toBe('nested\n');
      const skipped = path.join(scratch, 'skipped');
      const s = await upload(pool, sshd.hostConfig(), src, 'links skipped', { symlinks: 'skip' });
      expect(s.skipped.map(String).sort()).toEqual(['link', 'link-to-file']);
      await download(pool, sshd.hostConfig(), 'links skipped', skipped);
      expect(existsSync(path.join(skipped, 'link-to-file'))).toBe(false);
      expect(existsSync(path.join(skipped, 'sub dir/-nested/file'))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('an aborted download leaves nothing at the final name, and `resume` continues it', async () => {
    const target = path.join(scratch, 'big copy');
    const remoteBig = Buffer.from(`${REMOTE}/${BIG}`);
    const pool = sshd.pool();
    try {
      const ac = new AbortController();
      const first = download(pool, sshd.hostConfig(), remoteBig, target, {
        resume: true,
        signal: ac.signal,
        // Paced so the abort lands mid-file whatever the machine's speed.
        rateLimit: 8 << 20,
        onProgress: (p) => {
          if (p.bytesDone >= 6 << 20) ac.abort();
        },
      });
      await expect(first).rejects.toBeInstanceOf(AbortedError);
      expect(existsSync(target)).toBe(false);
      const partial = readdirSync(scratch).filter((n) => n.endsWith('.sshmux-partial'));
      expect(partial).toEqual(['.big copy.sshmux-partial']);
      await noSftpServer();

      const second = await download(pool, sshd.hostConfig(), remoteBig, target, { resume: true });
      console.log(
        `resumed download: second run transferred ${second.bytesTransferred} of ${BIG_SIZE} bytes (${second.bytesResumed} resumed)`,
      );
      expect(second.bytesResumed).toBeGreaterThan(0);
      expect(second.bytesTransferred).toBeLessThan(BIG_SIZE);
      expect(second.bytesTransferred + second.bytesResumed).toBe(BIG_SIZE);
      expect(sha(target)).toBe(sha(path.join(src, BIG)));
      expect(readdirSync(scratch).filter((n) => n.endsWith('.sshmux-partial'))).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('a download cut by the network keeps its partial file with `resume`, and the next run continues it', async () => {
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    const viaProxy = sshd.hostConfig('backup', { port: proxy.port });
    const target = path.join(scratch, 'big cut');
    const first = sshd.pool();
    let cut = false;
    const err = await download(first, viaProxy, `${REMOTE}/${BIG}`, target, {
      resume: true,
      rateLimit: 8 << 20,
      onProgress: (p) => {
        if (!cut && p.bytesDone >= 6 << 20) {
          cut = true;
          proxy.cutAll();
        }
      },
    }).catch((e: unknown) => e);
    await first.destroy();
    expect(err).toMatchObject({ kind: 'network' });
    expect(existsSync(target)).toBe(false);
    const partial = statSync(path.join(scratch, '.big cut.sshmux-partial')).size;
    expect(partial).toBeGreaterThan(0);
    const second = sshd.pool();
    try {
      const r = await download(second, sshd.hostConfig(), `${REMOTE}/${BIG}`, target, { resume: true });
      console.log(`download after a cut: second run transferred ${r.bytesTransferred} of ${BIG_SIZE} bytes`);
      expect(r.bytesResumed).toBe(partial);
      expect(r.bytesTransferred).toBe(BIG_SIZE - partial);
    } finally {
      await second.close();
    }
    expect(sha(target)).toBe(sha(path.join(src, BIG)));
  });

  it('a leftover whose bytes differ from the source is started over, not continued', async () => {
    const target = path.join(scratch, 'big wrong');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(scratch, '.big wrong.sshmux-partial'), Buffer.alloc(1 << 20, 0x61));
    const pool = sshd.pool();
    try {
      const r = await download(pool, sshd.hostConfig(), `${REMOTE}/${BIG}`, target, { resume: true });
      expect(r.bytesResumed).toBe(0);
      expect(r.bytesTransferred).toBe(BIG_SIZE);
    } finally {
      await pool.close();
    }
    expect(sha(target)).toBe(sha(path.join(src, BIG)));
  });

  it('an aborted upload leaves nothing at the final name; without resume no temporary either', async () => {
    const pool = sshd.pool();
    try {
      const ac = new AbortController();
      const up = upload(pool, sshd.hostConfig(), path.join(src, BIG), 'aborted.bin', {
        signal: ac.signal,
        rateLimit: 8 << 20,
        onProgress: (p) => {
          if (p.bytesDone >= 4 << 20) ac.abort();
        },
      });
      await expect(up).rejects.toBeInstanceOf(AbortedError);
      await noSftpServer();
      const left = (await containerBytes(sshd, 'ls -A /home/backup')).toString();
      expect(left).not.toMatch(/aborted\.bin/);

      // With resume the leftover stays, and the next upload continues it.
      const ac2 = new AbortController();
      const up2 = upload(pool, sshd.hostConfig(), path.join(src, BIG), 'resumed.bin', {
        resume: true,
        signal: ac2.signal,
        rateLimit: 8 << 20,
        onProgress: (p) => {
          if (p.bytesDone >= 4 << 20) ac2.abort();
        },
      });
      await expect(up2).rejects.toBeInstanceOf(AbortedError);
      const mid = (await containerBytes(sshd, 'ls -A /home/backup')).toString().split('\n');
      expect(mid).toContain('.resumed.bin.sshmux-partial');
      expect(mid).not.toContain('resumed.bin');
      const again = await upload(pool, sshd.hostConfig(), path.join(src, BIG), 'resumed.bin', {
        resume: true,
      });
      console.log(`resumed upload: second run transferred ${again.bytesTransferred} of ${BIG_SIZE} bytes`);
      expect(again.bytesTransferred).toBeLessThan(BIG_SIZE);
      const theirs = (await containerBytes(sshd, 'sha256sum < /home/backup/resumed.bin'))
        .toString()
        .slice(0, 64);
      expect(theirs).toBe(sha(path.join(src, BIG)));
    } finally {
      await pool.close();
    }
  });
});
