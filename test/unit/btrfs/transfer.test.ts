import { describe, expect, it } from 'vitest';
import type { BtrfsHost, HostRun } from '../../../src/btrfs/host.js';
import { LocalHost } from '../../../src/btrfs/local-host.js';
import { probeHost } from '../../../src/btrfs/probe.js';
import { runTransfer, TransferFailure, type TransferPlan } from '../../../src/btrfs/transfer.js';
import { describePosix } from '../../helpers/posix-only.js';

const local = new LocalHost();

function plan(sender: string, receiver: string, extra: Partial<TransferPlan> = {}): TransferPlan {
  return {
    sender: local,
    senderStages: [['sh', '-c', sender]],
    receiver: local,
    receiverStages: [['sh', '-c', receiver]],
    rateLimit: null,
    onProgress: undefined,
    progressInterval: 0,
    total: null,
    stallTimeout: 10_000,
    signal: undefined,
    ...extra,
  };
}

async function failure(p: Promise<unknown>): Promise<TransferFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransferFailure);
  return err as TransferFailure;
}

describePosix('sh')('runTransfer (local child processes standing in for btrfs send/receive)', () => {
  it('streams everything with backpressure and counts the bytes', async () => {
    const { bytes } = await runTransfer(
      plan('head -c 5000000 /dev/urandom', 'wc -c > /dev/null', { rateLimit: 100 * 1024 * 1024 }),
    );
    expect(bytes).toBe(5_000_000);
  });

  it('fails on a stall with kind timeout and stops both ends', async () => {
    const started = performance.now();
    const f = await failure(
      runTransfer(plan('head -c 1000 /dev/zero; exec sleep 30', 'cat >/dev/null', { stallTimeout: 300 })),
    );
    expect(f.kind).toBe('timeout');
    expect(f.summary).toMatch(/stalled: no data for 300 ms/);
    expect(f.bytes).toBe(1000);
    expect(f.sender.signal).toBe('TERM');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('fails on abort with kind aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const f = await failure(runTransfer(plan('exec sleep 30', 'cat >/dev/null', { signal: ac.signal })));
    expect(f.kind).toBe('aborted');
  });

  it('reports both ends when the receiver fails, with its stderr', async () => {
    const f = await failure(
      runTransfer(
        plan('head -c 10000000 /dev/zero', 'head -c 10 >/dev/null; echo "ERROR: bad stream" >&2; exit 1'),
      ),
    );
    expect(f.kind).toBe('local');
    expect(f.receiver).toMatchObject({ role: 'receive', exitCode: 1, stderr: 'ERROR: bad stream\n' });
    expect(f.summary).toMatch(/btrfs receive on local failed/);
  });

  it('fails when the sender fails even though the receiver took what came', async () => {
    const f = await failure(
      runTransfer(plan('echo partial; echo "ERROR: send ioctl failed" >&2; exit 1', 'cat >/dev/null')),
    );
    expect(f.sender).toMatchObject({ exitCode: 1, stderr: 'ERROR: send ioctl failed\n' });
    expect(f.receiver.exitCode).toBe(0);
  });
});

function fakeHost(answers: (argv: readonly string[]) => HostRun): BtrfsHost {
  return {
    label: 'nas',
    destination: 'nas',
    run: async (argv) => answers(argv),
    spawn: async () => {
      throw new Error('not used');
    },
  };
}

describe('probeHost privilege', () => {
  const ok = (stdout: string): HostRun => ({ code: 0, signal: null, stdout, stderr: '' });
  const probe = 'uid=1001\nuser=backup\nbtrfs=/usr/sbin/btrfs\nzstd=/usr/bin/zstd\n';

  it('uses sudo -n for btrfs alone when it works', async () => {
    const caps = await probeHost(
      fakeHost((argv) => (argv[0] === 'sh' ? ok(probe) : ok('btrfs-progs v6.2\n'))),
    );
    expect(caps).toMatchObject({
      privilege: 'sudo',
      btrfs: ['sudo', '-n', '/usr/sbin/btrfs'],
      zstdPath: '/usr/bin/zstd',
    });
  });

  it('names the sudoers line needed when sudo refuses', async () => {
    const host = fakeHost((argv) =>
      argv[0] === 'sh'
        ? ok(probe)
        : { code: 1, signal: null, stdout: '', stderr: 'sudo: a password is required\n' },
    );
    await expect(probeHost(host)).rejects.toMatchObject({
      kind: 'remote',
      message: expect.stringContaining('backup ALL=(root) NOPASSWD: /usr/sbin/btrfs'),
    });
  });

  it('says where it looked when btrfs is missing', async () => {
    await expect(probeHost(fakeHost(() => ok('uid=0\nuser=root\nbtrfs=\nzstd=\n')))).rejects.toThrow(
      /btrfs not found \(PATH, \/usr\/sbin, \/sbin, \/usr\/bin, \/bin\)/,
    );
  });
});

describe('probeHost in one round trip', () => {
  const ok = (stdout: string): HostRun => ({ code: 0, signal: null, stdout, stderr: '' });
  const probed = (sudo: string) =>
    `uid=1001\nuser=backup\nbtrfs=/usr/sbin/btrfs\n${sudo}zstd=/usr/bin/zstd\n`;

  it('takes the sudo answer from the probe script and runs nothing else', async () => {
    const calls: (readonly string[])[] = [];
    const caps = await probeHost(
      fakeHost((argv) => {
        calls.push(argv);
        return ok(probed('sudo=0\nsudoerr=\n'));
      }),
    );
    expect(caps).toMatchObject({ privilege: 'sudo', btrfs: ['sudo', '-n', '/usr/sbin/btrfs'] });
    expect(calls).toHaveLength(1);
  });

  it("quotes sudo's last error line from the probe script when sudo refuses", async () => {
    const host = fakeHost(() => ok(probed('sudo=1\nsudoerr=sudo: a password is required\n')));
    await expect(probeHost(host)).rejects.toMatchObject({
      kind: 'remote',
      message: expect.stringMatching(
        /`sudo -n \/usr\/sbin\/btrfs` failed: sudo: a password is required\)[\s\S]*backup ALL=\(root\) NOPASSWD: \/usr\/sbin\/btrfs/,
      ),
    });
  });
});
