import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isSshmuxError,
  listSubvolumes,
  remoteManifest,
  type SshPool,
  sendSnapshot,
} from '../../src/index.js';
import { btrfsAvailable, CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';

/**
 * Fakes that shadow the real tools: sshd's default PATH for sessions puts /usr/local/bin
 * first. Each reads its behaviour from /tmp/hostile-mode and otherwise runs the real tool.
 */
const FAKE_BTRFS = `#!/bin/sh
mode=$(cat /tmp/hostile-mode 2>/dev/null)
case "$mode:$1 $2" in
  "garbage:subvolume show") head -c 4000 /dev/urandom; exit 0;;
  "huge:subvolume show") head -c 300000000 /dev/zero | tr '\\0' x; exit 0;;
  "nothing:subvolume show") exit 0;;
esac
case "$mode:$1" in
  "lie:receive") cat > /dev/null; echo "At subvol pretend"; exit 0;;
  "hang:receive") exec sleep 100000;;
esac
exec /usr/bin/btrfs "$@"
`;
const FAKE_SHA256SUM = `#!/bin/sh
mode=$(cat /tmp/hostile-mode 2>/dev/null)
case "$mode" in
  garbage) head -c 100000 /dev/urandom; exit 0;;
  huge) head -c 300000000 /dev/zero | tr '\\0' x; exit 0;;
  nothing) exit 0;;
  fail) echo "sha256sum: everything: Input/output error" >&2; exit 1;;
esac
exec /usr/bin/sha256sum "$@"
`;

/** Run `fn`, sampling this process's RSS; returns its outcome, the time it took and the peak RSS growth. */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ outcome: T | unknown; ms: number; rssGrowth: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = Date.now();
  try {
    const outcome = await fn().catch((e: unknown) => e);
    return { outcome, ms: Date.now() - t0, rssGrowth: peak - before };
  } finally {
    clearInterval(sampler);
  }
}

const MiB = 1024 * 1024;

describe('a hostile server: tools that print garbage, huge output, nothing, or never exit', () => {
  let sshd: StartedSshd;
  let pool: SshPool;
  const btrfs = btrfsAvailable();

  beforeAll(async () => {
    sshd = await startSshd({ btrfs });
    pool = sshd.pool({ resolve: (dest) => sshd.hostConfig(dest === 'root' ? 'root' : 'backup') });
    await sshd.sh(
      `cat > /usr/local/bin/btrfs <<'EOF'\n${FAKE_BTRFS}EOF\ncat > /usr/local/bin/sha256sum <<'EOF'\n${FAKE_SHA256SUM}EOF\n` +
        'chmod 755 /usr/local/bin/btrfs /usr/local/bin/sha256sum && ' +
        'mkdir -p /home/backup/tree/sub && echo a > /home/backup/tree/a && echo b > /home/backup/tree/sub/b && ' +
        'chown -R backup:backup /home/backup/tree',
    );
  });
  afterAll(async () => {
    // destroy, not close: close() drains, and a hostile remote program may hold a channel open.
    try {
      pool?.destroy();
    } finally {
      await sshd?.stop();
    }
  });

  const mode = (m: string) => sshd.sh(`printf %s '${m}' > /tmp/hostile-mode`);

  it('ssh sessions really run the fakes (they come first in PATH)', async () => {
    const r = await pool.exec('backup', 'command -v sha256sum btrfs', { encoding: 'utf8', check: true });
    expect(r.stdout).toBe('/usr/local/bin/sha256sum\n/usr/local/bin/btrfs\n');
  });

  it.each(['garbage', 'huge', 'fail'])(
    'remoteManifest with a sha256sum that prints %s fails classified, in bounded time and memory',
    async (m) => {
      await mode(m);
      const { outcome, ms, rssGrowth } = await measured(() =>
        remoteManifest(pool, { dest: 'backup', path: '/home/backup/tree' }),
      );
      // A manifest is acceptable only when it marks the files unhashed, never with invented hashes.
      if (outcome instanceof Map) {
        for (const e of outcome.values()) expect(e.type).not.toBe('file');
      } else {
        expect(isSshmuxError(outcome), String(outcome)).toBe(true);
        expect(outcome).toMatchObject({ kind: 'remote' });
      }
      expect(ms).toBeLessThan(30_000);
      expect(rssGrowth).toBeLessThan(200 * MiB);
      await expectNoChannels(pool);
    },
  );

  it('remoteManifest with a sha256sum that prints nothing reports the files as unreadable, not hashed', async () => {
    await mode('nothing');
    const m = await remoteManifest(pool, { dest: 'backup', path: '/home/backup/tree' });
    expect(m.get('a')).toMatchObject({ type: 'error' });
    expect(m.get('sub/b')).toMatchObject({ type: 'error' });
  });

  it('an exec whose output is huge fails at maxBuffer with kind remote and frees slot and process', async () => {
    await mode('');
    const { outcome, rssGrowth } = await measured(() =>
      pool.exec('backup', ['sh', '-c', 'exec head -c 400000000 /dev/zero', 'hostile-huge'], {
        maxBuffer: 4 * MiB,
      }),
    );
    expect(outcome).toMatchObject({ kind: 'remote' });
    expect(rssGrowth).toBeLessThan(200 * MiB);
    await expectNoChannels(pool);
    await expectGone('head -c 400000000');
  });

  it('an exec that never exits is killed at its timeout: slot freed, remote process gone, next exec runs', async () => {
    await using one = sshd.pool({ channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const host = sshd.hostConfig();
    const err = await one.exec(host, ['sleep', '100001'], { timeout: 1_500 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    await expectNoChannels(one);
    await expectGone('sleep 100001');
    const next = await one.exec(host, ['echo', 'next'], { encoding: 'utf8', timeout: 10_000 });
    expect(next.stdout).toBe('next\n');
  });

  it('as root (no SSH signals there), a tracked exec that never exits is killed at its timeout', async () => {
    const host = sshd.hostConfig('root');
    // Untracked, the sleep outlives its channel: OpenSSH refuses signal requests for root.
    const started = Date.now();
    const err = await pool
      .exec(host, ['sh', '-c', 'sleep 100002; true'], { timeout: 1_000, track: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectGone('sleep 100002');
    await expectNoChannels(pool);
  });

  /** Every channel slot is free again (a close may take a round trip). */
  async function expectNoChannels(p: SshPool): Promise<void> {
    for (let i = 0; i < 30 && p.stats().openChannels > 0; i++) await sleep(100);
    expect(p.stats().openChannels).toBe(0);
  }

  async function expectGone(pattern: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if ((await sshd.processes(pattern)).length === 0) return;
      await sleep(200);
    }
    expect(await sshd.processes(pattern)).toEqual([]);
  }

  describe.runIf(btrfs)('btrfs', () => {
    let vol: string;
    let n = 0;
    /** A fresh read-only snapshot on the host's source filesystem. */
    const snapshot = (): string => {
      const src = sshd.btrfs!.source;
      vol ??= path.join(src, 'vol');
      if (n === 0) execFileSync('btrfs', ['subvolume', 'create', vol], { stdio: 'ignore' });
      writeFileSync(path.join(vol, `f${n}`), `file ${n}\n`);
      const p = path.join(src, `snap-${n++}`);
      execFileSync('btrfs', ['subvolume', 'snapshot', '-r', vol, p], { stdio: 'ignore' });
      return p;
    };
    const target = `root:${CONTAINER_BTRFS}/in`;

    let prepared: Promise<void> | undefined;
    /** Once, before the first btrfs test: one real received subvolume, so listings run `subvolume show` on it. */
    const prepare = (): Promise<void> =>
      (prepared ??= (async () => {
        await mode('');
        await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/in`);
        await sendSnapshot(pool, { source: snapshot(), target, parent: null });
      })());

    it.each(['garbage', 'huge', 'nothing'])(
      'a btrfs whose `subvolume show` prints %s: list and send fail classified, bounded',
      async (m) => {
        await prepare();
        await mode(m);
        const list = await measured(() => listSubvolumes(pool, target));
        expect(isSshmuxError(list.outcome), String(list.outcome)).toBe(true);
        expect(list.outcome).toMatchObject({ kind: 'remote' });
        const send = await measured(() => sendSnapshot(pool, { source: snapshot(), target, parent: null }));
        expect(isSshmuxError(send.outcome), String(send.outcome)).toBe(true);
        for (const r of [list, send]) {
          expect(r.ms).toBeLessThan(60_000);
          expect(r.rssGrowth).toBeLessThan(300 * MiB);
        }
        await expectNoChannels(pool);
      },
    );

    it('a btrfs receive that claims success without receiving fails verification, leaves no subvolume', async () => {
      await prepare();
      await mode('lie');
      const snap = snapshot();
      const err = await sendSnapshot(pool, { source: snap, target, parent: null }).catch((e: unknown) => e);
      expect(isSshmuxError(err), String(err)).toBe(true);
      expect((err as { kind: string }).kind).toMatch(/^(verify|remote)$/);
      await mode('');
      const r = await pool.exec('root', ['ls', '-A', `${CONTAINER_BTRFS}/in`], { encoding: 'utf8' });
      expect(r.stdout).not.toContain(path.basename(snap));
    });

    // As root, OpenSSH ignores SSH signal requests ("session signalling requires privilege
    // separation"): the fake `exec sleep` neither reads nor writes, so only the tracked kill
    // (a second channel ending the job's processes) can stop it.
    it('a btrfs receive that never reads is stopped by the stall timeout: kind timeout, bounded, nothing left', async () => {
      await prepare();
      await mode('hang');
      // More than the pipes and the SSH window hold, so bytes stop moving while the send runs.
      writeFileSync(path.join(vol, 'big'), randomBytes(24 * MiB));
      const { outcome, ms } = await measured(() =>
        sendSnapshot(pool, { source: snapshot(), target, parent: null, stallTimeout: 2_000 }),
      );
      expect(outcome).toMatchObject({ kind: 'timeout' });
      expect(ms).toBeLessThan(15_000);
      await mode('');
      await expectGone('sleep 100000');
      await expectNoChannels(pool);
    });

    it('a btrfs receive that never exits after the last byte is ended by the caller signal, nothing left', async () => {
      await prepare();
      await mode('hang');
      const { outcome, ms } = await measured(() =>
        sendSnapshot(pool, { source: snapshot(), target, parent: null, signal: AbortSignal.timeout(3_000) }),
      );
      expect(outcome).toMatchObject({ kind: 'aborted' });
      expect(ms).toBeLessThan(15_000);
      await mode('');
      await expectGone('sleep 100000');
      await expectNoChannels(pool);
    });
  });
});
