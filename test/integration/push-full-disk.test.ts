import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push } from '../../src/push/push.js';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { cliConfig, containerBytes, remoteSpec } from './manifest-env.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Issue 18's "ENOSPC and EACCES mid-transfer": a remote file system that fills up (a 2 MiB
 * tmpfs in the container) and a directory the login may not write. Each push fails with a
 * classified error naming the path, leaves nothing at a final name and the previous version
 * intact, and a rerun once the cause is gone completes.
 */
describe('push to a full or unwritable remote file system', () => {
  let sshd: StartedSshd;
  let src: string;
  const remoteSha = async (p: string) => sha(await containerBytes(sshd, `cat -- "${p}"`));
  const remoteList = async (dir: string) =>
    (await containerBytes(sshd, `ls -A -- "${dir}"`)).toString().trim().split('\n').sort();

  beforeAll(async () => {
    sshd = await startSshd();
    await sshd.sh(
      'mkdir -p /home/backup/small && mount -t tmpfs -o size=2m,mode=0755 tmpfs /home/backup/small && ' +
        'chown backup:backup /home/backup/small',
    );
    src = mkdtempSync(path.join(os.tmpdir(), 'sshmux-full-'));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (src) rmSync(src, { recursive: true, force: true });
  });

  it('ENOSPC: a classified error naming the file and the full disk, the old version kept, a rerun completes', async () => {
    writeFileSync(path.join(src, 'keep.txt'), 'kept\n');
    writeFileSync(path.join(src, 'grow.bin'), randomBytes(200_000));
    const tree = { dest: sshd.hostConfig(), path: 'small' };
    {
      await using pool = sshd.pool();
      await push(pool, src, tree, { verify: true });
    }
    const old = await remoteSha('/home/backup/small/grow.bin');
    // The new version does not fit.
    const grown = randomBytes(3 << 20);
    writeFileSync(path.join(src, 'grow.bin'), grown);
    utimesSync(path.join(src, 'grow.bin'), new Date(), new Date(Date.now() + 60_000));
    const cli = cliConfig(sshd);
    const r = await runCli(['push', ...cli.args, src, remoteSpec('small')], {
      env: cli.env,
      timeoutMs: 60_000,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/grow\.bin/);
    expect(r.stderr).toMatch(/no space left on the remote file system/i);
    {
      await using pool = sshd.pool();
      const err = await push(pool, src, tree).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_REMOTE_NO_SPACE' });
      expect((err as Error).message).toMatch(/grow\.bin.*no space left on the remote file system/i);
    }
    // The final name still holds the previous version; nothing else appeared but the hidden
    // partial file a rerun resumes from.
    expect(await remoteSha('/home/backup/small/grow.bin')).toBe(old);
    expect((await remoteList('/home/backup/small')).filter((n) => !n.endsWith('.sshmux-partial'))).toEqual([
      'grow.bin',
      'keep.txt',
    ]);
    // Space comes back: the same push completes and verifies.
    await sshd.sh('mount -o remount,size=16m /home/backup/small');
    {
      await using pool = sshd.pool();
      const done = await push(pool, src, tree, { verify: true });
      expect(done.verified).toBe(true);
    }
    expect(await remoteSha('/home/backup/small/grow.bin')).toBe(sha(grown));
    expect(await remoteList('/home/backup/small')).toEqual(['grow.bin', 'keep.txt']);
  });

  it('EACCES: a directory the login may not write fails naming the path, the old file kept, a rerun completes', async () => {
    await sshd.sh(
      'mkdir -p /home/backup/locked && printf old > /home/backup/locked/f && chown root:root /home/backup/locked && ' +
        'chmod 0755 /home/backup/locked && chmod 0644 /home/backup/locked/f',
    );
    const local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-locked-'));
    try {
      writeFileSync(path.join(local, 'f'), 'new content\n');
      const tree = { dest: sshd.hostConfig(), path: 'locked' };
      {
        await using pool = sshd.pool();
        const err = await push(pool, local, tree).catch((e: unknown) => e);
        expect(err).toMatchObject({ kind: 'remote' });
        expect((err as Error).message).toMatch(/push f: .*permission denied/i);
      }
      expect((await containerBytes(sshd, 'cat /home/backup/locked/f')).toString()).toBe('old');
      expect(await remoteList('/home/backup/locked')).toEqual(['f']);
      await sshd.sh('chown -R backup:backup /home/backup/locked');
      {
        await using pool = sshd.pool();
        await push(pool, local, tree, { verify: true });
      }
      expect((await containerBytes(sshd, 'cat /home/backup/locked/f')).toString()).toBe(
        readFileSync(path.join(local, 'f'), 'utf8'),
      );
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});
