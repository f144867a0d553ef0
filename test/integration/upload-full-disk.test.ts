import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../../src/transfer/transfer.js';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { containerBytes } from './manifest-env.js';
import { ScpRunner } from './scp-helpers.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Issue 18's "ENOSPC and EACCES mid-transfer" for uploads (the library's `upload`, `sshmux scp`
 * and `sshmux sftp put`), as push-full-disk does for push: a 2 MiB tmpfs in the container that a
 * new version does not fit, and a directory the login may not write. Each fails naming the path,
 * leaves the previous version at the final name and nothing else, and a rerun once the cause is
 * gone completes.
 */
describe('uploads to a full or unwritable remote file system', () => {
  let sshd: StartedSshd;
  let scp: ScpRunner;
  let local: string;
  const SMALL = '/home/backup/small';
  const remoteSha = async (p: string) => sha(await containerBytes(sshd, `cat -- "${p}"`));
  const remoteList = async (dir: string) =>
    (await containerBytes(sshd, `ls -A -- "${dir}"`)).toString().trim().split('\n').filter(Boolean).sort();

  beforeAll(async () => {
    sshd = await startSshd();
    scp = new ScpRunner(sshd);
    local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-upfull-'));
  });
  afterAll(async () => {
    await scp?.cleanup();
    await sshd?.stop();
    if (local) rmSync(local, { recursive: true, force: true });
  });

  /** A fresh 2 MiB tmpfs at SMALL holding `keep.txt` and a 200 kB `grow.bin`; returns grow.bin's hash. */
  async function smallDisk(): Promise<string> {
    await sshd.sh(
      `umount ${SMALL} 2>/dev/null; mkdir -p ${SMALL} && mount -t tmpfs -o size=2m,mode=0755 tmpfs ${SMALL} && ` +
        `echo kept > ${SMALL}/keep.txt && head -c 200000 /dev/urandom > ${SMALL}/grow.bin && ` +
        `chown -R backup:backup ${SMALL}`,
    );
    return remoteSha(`${SMALL}/grow.bin`);
  }

  /** The state a failed upload must leave: the old version under its name, nothing else. */
  async function expectUntouched(old: string): Promise<void> {
    expect(await remoteSha(`${SMALL}/grow.bin`)).toBe(old);
    expect(await remoteList(SMALL)).toEqual(['grow.bin', 'keep.txt']);
  }

  const grown = randomBytes(3 << 20);

  it('upload(): ENOSPC fails kind remote naming the file and the full disk, the old version kept, a rerun completes', async () => {
    const old = await smallDisk();
    const file = path.join(local, 'grow.bin');
    writeFileSync(file, grown);
    {
      await using pool = sshd.pool();
      const err = await upload(pool, sshd.hostConfig(), file, `${SMALL}/grow.bin`).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_REMOTE_NO_SPACE' });
      expect((err as Error).message).toMatch(
        /^upload \/home\/backup\/small\/grow\.bin: no space left on the remote file system \(\d+ bytes free in \/home\/backup\/small, \d+ more were needed\)$/,
      );
    }
    await expectUntouched(old);
    await sshd.sh(`mount -o remount,size=16m ${SMALL}`);
    {
      await using pool = sshd.pool();
      await upload(pool, sshd.hostConfig(), file, `${SMALL}/grow.bin`);
    }
    expect(await remoteSha(`${SMALL}/grow.bin`)).toBe(sha(grown));
    expect(await remoteList(SMALL)).toEqual(['grow.bin', 'keep.txt']);
  });

  for (const tool of ['scp', 'sftp'] as const) {
    it(`sshmux ${tool}: ENOSPC prints OpenSSH ${tool}'s lines naming the file plus one saying the disk is full; exit 1; the old version kept; a rerun completes`, async () => {
      const old = await smallDisk();
      const file = path.join(local, 'grow.bin');
      writeFileSync(file, grown);
      const args =
        tool === 'scp'
          ? [...scp.options(), file, scp.remote(`${SMALL}/grow.bin`, 'backup')]
          : [...scp.options(), '-b', '-', scp.remote(SMALL, 'backup')];
      const input = tool === 'sftp' ? `put ${file}\n` : undefined;
      const ours = () => scp.run(tool, 'direct', args, input);
      const r = await ours();
      await expectUntouched(old);
      // OpenSSH's own client, for the lines it prints, after ours left the old version intact.
      const env = scp.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` });
      const theirs = await runProgram(tool, args, { env, ...(input !== undefined && { input }) });
      expect(theirs.code).toBe(1);
      expect(theirs.stderr).toContain(`write remote "${SMALL}/grow.bin": Failure`);
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n');
      const why = lines.filter((l) => /no space left/.test(l));
      expect(why).toHaveLength(1);
      expect(why[0]).toMatch(
        new RegExp(
          `^(${tool}: )?${SMALL}/grow\\.bin: no space left on the remote file system ` +
            `\\(\\d+ bytes free in ${SMALL}, ${grown.length} more were needed\\)\r?$`,
        ),
      );
      expect(lines.filter((l) => !/no space left/.test(l)).join('\n')).toBe(theirs.stderr);
      // (OpenSSH's client writes in place: its failure left a cut-off file under the final name.)
      expect(await remoteSha(`${SMALL}/grow.bin`)).not.toBe(old);
      await sshd.sh(`mount -o remount,size=16m ${SMALL}`);
      expect((await ours()).code).toBe(0);
      expect(await remoteSha(`${SMALL}/grow.bin`)).toBe(sha(grown));
      expect(await remoteList(SMALL)).toEqual(['grow.bin', 'keep.txt']);
    });
  }

  it('EACCES: upload(), scp and sftp into a directory the login may not write fail naming the file, the old file kept, a rerun completes', async () => {
    const dir = '/home/backup/locked';
    await sshd.sh(
      `rm -rf ${dir} && mkdir -p ${dir} && printf old > ${dir}/f && chmod 0755 ${dir} && chmod 0644 ${dir}/f`,
    );
    const file = path.join(local, 'f');
    writeFileSync(file, 'new content\n');
    {
      await using pool = sshd.pool();
      const err = await upload(pool, sshd.hostConfig(), file, `${dir}/f`).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_SFTP' });
      expect((err as Error).message).toMatch(/\/home\/backup\/locked\/f.*permission denied/i);
    }
    const s = await scp.scp('direct', [file, scp.remote(`${dir}/f`, 'backup')]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`scp: dest open "${dir}/f": Permission denied`);
    const f = await scp.run(
      'sftp',
      'direct',
      [...scp.options(), '-b', '-', scp.remote(dir, 'backup')],
      `put ${file}\n`,
    );
    expect(f.code).toBe(1);
    expect(f.stderr).toContain(`dest open "${dir}/f": Permission denied`);
    expect((await containerBytes(sshd, `cat ${dir}/f`)).toString()).toBe('old');
    expect(await remoteList(dir)).toEqual(['f']);
    await sshd.sh(`chown -R backup:backup ${dir}`);
    expect((await scp.scp('direct', [file, scp.remote(`${dir}/f`, 'backup')])).code).toBe(0);
    expect((await containerBytes(sshd, `cat ${dir}/f`)).toString()).toBe('new content\n');
    expect(await remoteList(dir)).toEqual(['f']);
  });
});
