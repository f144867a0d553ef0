import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtrfsTransferError, type SshPool, sendSnapshot } from '../../src/index.js';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { treeOf, unfinishedSubvolumes } from '../soak/checks.js';

const MiB = 1024 * 1024;
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'ignore' });

/** Fill `dir`'s file system until about `leave` bytes are free (zeros: btrfs stores them as data). */
function fillUntil(file: string, leave: number): void {
  const st = statfsSync(path.dirname(file));
  let todo = st.bavail * st.bsize - leave;
  const chunk = Buffer.alloc(4 * MiB);
  const fd = openSync(file, 'w');
  try {
    while (todo > 0) {
      const n = Math.min(todo, chunk.length);
      writeSync(fd, chunk, 0, n);
      todo -= n;
    }
  } finally {
    closeSync(fd);
  }
  sh('btrfs', ['filesystem', 'sync', path.dirname(file)]);
}

/**
 * Issue 18's ENOSPC mid-transfer for btrfs receive: a small destination btrfs (the harness's
 * loop image, bind-mounted into the container) that an incremental send does not fit. The
 * receive fails classified and naming the subvolume, leaves no partial subvolume and no
 * receive process, keeps the snapshot received before, and a rerun after space is freed
 * completes verified.
 */
describe('btrfs receive into a file system that fills up', () => {
  let sshd: StartedSshd;
  let pool: SshPool;

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true, btrfsSize: '320M' });
    pool = sshd.pool({ resolve: () => sshd.hostConfig('root') });
  });
  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('ENOSPC: classified, names the target, no partial subvolume, the previous snapshot kept; rerun after freeing space succeeds', async () => {
    const bt = sshd.btrfs!;
    const vol = path.join(bt.source, 'vol');
    const snaps = path.join(bt.source, 'snaps');
    sh('btrfs', ['subvolume', 'create', vol]);
    mkdirSync(snaps);
    const recvHost = path.join(bt.destination, 'recv');
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/recv`);
    const target = `root:${CONTAINER_BTRFS}/recv`;

    execFileSync('sh', ['-c', `echo one > ${vol}/small.txt`]);
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, path.join(snaps, 's1')]);
    await sendSnapshot(pool, { source: path.join(snaps, 's1'), target, parent: null });
    const s1Before = treeOf(path.join(recvHost, 's1'));

    // 64 MiB of new data where about 24 MiB are left.
    const big = randomBytes(64 * MiB);
    execFileSync('sh', ['-c', `cat > ${vol}/big.bin`], { input: big });
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, path.join(snaps, 's2')]);
    const ballast = path.join(bt.destination, 'ballast');
    fillUntil(ballast, 24 * MiB);

    // Without the resume spool (it would take the space this test fills): what is classified here is the receive's own ENOSPC.
    const err = await sendSnapshot(pool, {
      source: path.join(snaps, 's2'),
      target,
      parent: 'auto',
      resume: false,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BtrfsTransferError);
    expect(err).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_REMOTE_NO_SPACE' });
    const msg = (err as Error).message;
    expect(msg.split('\n')[0]).toMatch(
      new RegExp(
        `^btrfs receive into root:${CONTAINER_BTRFS}/recv/s2: no space left on the remote file system after \\d+ bytes$`,
      ),
    );
    expect(msg).toMatch(/No space left on device/);
    // Mid-stream: megabytes went through before the file system was full.
    expect((err as BtrfsTransferError).bytes).toBeGreaterThan(4 * MiB);
    // The receive stage deletes the partial it made; the cleanup after it finds nothing left.
    expect((err as BtrfsTransferError).cleanup).toMatch(
      new RegExp(`^(removed partial subvolume|nothing to remove at) root:${CONTAINER_BTRFS}/recv/s2$`),
    );
    // Nothing half-received is left, no receive runs on, and s1 is as it was.
    expect(readdirSync(recvHost)).toEqual(['s1']);
    expect(unfinishedSubvolumes(recvHost)).toEqual([]);
    expect(await sshd.processes('btrfs receive')).toEqual([]);
    expect(treeOf(path.join(recvHost, 's1'))).toEqual(s1Before);

    // Space comes back: the same send completes, incremental on s1, and verifies.
    rmSync(ballast);
    sh('btrfs', ['filesystem', 'sync', bt.destination]);
    const r = await sendSnapshot(pool, {
      source: path.join(snaps, 's2'),
      target,
      parent: 'auto',
      resume: false,
    });
    expect(r.parent).toBe(path.join(snaps, 's1'));
    expect(r.received).toMatchObject({ readonly: true });
    expect(r.received.receivedUuid).not.toBeNull();
    expect(treeOf(path.join(recvHost, 's2'))).toEqual(treeOf(path.join(snaps, 's2')));
    expect(unfinishedSubvolumes(recvHost)).toEqual([]);
  }, 240_000);
});
