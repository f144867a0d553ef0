import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BtrfsTransferError,
  listSubvolumes,
  type ProgressEvent,
  pullSnapshot,
  relaySnapshot,
  type SshmuxError,
  type SshPool,
  sendSnapshot,
} from '../../src/index.js';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const MiB = 1024 * 1024;

/** A pool where `root` and `backup` are the container's users, `cut` is backup (sudo) through the proxy. */
function poolFor(sshd: StartedSshd, proxyPort?: number): SshPool {
  // Destinations are user names ('root', 'backup'), or 'cut' for backup through the proxy.
  return sshd.pool({
    resolve: (dest) =>
      sshd.hostConfig(dest === 'cut' ? 'backup' : dest, dest === 'cut' ? { port: proxyPort! } : {}),
  });
}

/** Every entry under `dir` with its type, mode and content hash (or link target): what "same content" means here. */
function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      const st = lstatSync(path.join(dir, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(path.join(dir, r))}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else {
        out[r] = `file ${mode} ${createHash('sha256')
          .update(readFileSync(path.join(dir, r)))
          .digest('hex')}`;
      }
    }
  };
  walk('');
  return out;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function uuidOf(p: string): string {
  return /^\s*UUID:\s+(\S+)/m.exec(sh('btrfs', ['subvolume', 'show', p]))![1]!;
}

async function rejection(p: Promise<unknown>): Promise<SshmuxError> {
  try {
    await p;
  } catch (err) {
    return err as SshmuxError;
  }
  throw new Error('expected a rejection');
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(250);
    v = await fn();
  }
  return v;
}

describe('btrfs replication over pooled exec channels', () => {
  let sshd: StartedSshd;
  let pool: SshPool;
  let vol: string;
  let snaps: string;
  /** Host-side view of the container's /mnt/btrfs. */
  let dstHost: string;

  /** Change the writable subvolume, then take read-only snapshot `name` of it. */
  function snapshot(name: string, change: (root: string) => void): string {
    change(vol);
    const p = path.join(snaps, name);
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, p]);
    return p;
  }

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true });
    pool = poolFor(sshd);
    const src = sshd.btrfs!.source;
    dstHost = sshd.btrfs!.destination;
    vol = path.join(src, 'vol');
    snaps = path.join(src, 'snaps');
    sh('btrfs', ['subvolume', 'create', vol]);
    mkdirSync(snaps);
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/backups ${CONTAINER_BTRFS}/relay ${CONTAINER_BTRFS}/taken`);
  });

  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('sends a full snapshot, then a chain of three incrementals chosen by parent auto, each verified', async () => {
    const s1 = snapshot('s1', (root) => {
      writeFileSync(path.join(root, 'hello.txt'), 'hello\n');
      mkdirSync(path.join(root, 'sub dir'));
      writeFileSync(path.join(root, 'sub dir', "it's.bin"), randomBytes(3 * MiB));
      writeFileSync(path.join(root, 'exec.sh'), '#!/bin/sh\n', { mode: 0o755 });
    });
    const events: ProgressEvent[] = [];
    const r1 = await sendSnapshot(pool, {
      source: s1,
      target: `backup:${CONTAINER_BTRFS}/backups`,
      onProgress: (e) => events.push(e),
      progressInterval: 0,
    });
    expect(r1).toMatchObject({
      status: 'sent',
      name: 's1',
      parent: null,
      path: `${CONTAINER_BTRFS}/backups/s1`,
    });
    expect(r1.reason).toMatch(/full send: no read-only snapshot older than s1/);
    expect(r1.received).toMatchObject({ readonly: true, receivedUuid: uuidOf(s1), parentUuid: null });
    expect(treeOf(path.join(dstHost, 'backups', 's1'))).toEqual(treeOf(s1));
    // Progress: monotonic, one final event, ending at the byte count of the stream itself.
    const streamBytes = Number(sh('sh', ['-c', `btrfs send -q '${s1}' | wc -c`]).trim());
    expect(r1.bytes).toBe(streamBytes);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.bytes).toBeGreaterThanOrEqual(events[i - 1]!.bytes);
      expect(events[i]!.elapsedMs).toBeGreaterThanOrEqual(events[i - 1]!.elapsedMs);
    }
    expect(events.filter((e) => e.done)).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ done: true, bytes: streamBytes });
    expect(events.at(-1)!.total).not.toBeNull();

    const changes: [string, (root: string) => void, object][] = [
      ['s2', (root) => writeFileSync(path.join(root, 'hello.txt'), 'hello again\n'), {}],
      [
        's3',
        (root) => {
          rmSync(path.join(root, 'exec.sh'));
          renameSync(path.join(root, 'sub dir'), path.join(root, 'moved'));
          execFileSync('ln', ['-s', "moved/it's.bin", path.join(root, 'link')]);
        },
        { compress: 'zstd' },
      ],
      ['s4', (root) => writeFileSync(path.join(root, 'big.bin'), randomBytes(2 * MiB)), { rateLimit: '20M' }],
    ];
    let previous = s1;
    for (const [name, change, extra] of changes) {
      const snap = snapshot(name, change);
      const r = await sendSnapshot(pool, {
        source: snap,
        target: `backup:${CONTAINER_BTRFS}/backups`,
        ...extra,
      });
      expect(r.status).toBe('sent');
      expect(r.parent).toBe(previous);
      expect(r.reason).toMatch(new RegExp(`incremental from ${path.basename(previous)}`));
      expect(r.received.readonly).toBe(true);
      expect(r.received.receivedUuid).toBe(uuidOf(snap));
      expect(r.received.parentUuid).not.toBeNull();
      expect(treeOf(path.join(dstHost, 'backups', name))).toEqual(treeOf(snap));
      previous = snap;
    }
    const listed = await listSubvolumes(pool, `backup:${CONTAINER_BTRFS}/backups`);
    expect(listed.map((s) => [s.name, s.readonly, s.receivedUuid])).toEqual(
      ['s1', 's2', 's3', 's4'].map((n) => [n, true, uuidOf(path.join(snaps, n))]),
    );
    const local = await listSubvolumes(pool, snaps);
    expect(local.map((s) => s.name)).toEqual(['s1', 's2', 's3', 's4']);
  });

  it('answers "already there" for a snapshot the destination received before, sending nothing', async () => {
    const r = await sendSnapshot(pool, {
      source: path.join(snaps, 's4'),
      target: `root:${CONTAINER_BTRFS}/backups`,
    });
    expect(r).toMatchObject({ status: 'already-there', bytes: 0 });
    expect(r.reason).toMatch(/already there/);
  });

  it('pulls back to a fresh local filesystem: full, then incremental from received siblings', async () => {
    const local = sshd.btrfs!.extra('pull');
    const full = await pullSnapshot(pool, { source: `backup:${CONTAINER_BTRFS}/backups/s3`, target: local });
    expect(full).toMatchObject({ status: 'sent', parent: null });
    // The stream of a received subvolume carries the original UUID: the chain stays correlated.
    expect(full.received.receivedUuid).toBe(uuidOf(path.join(snaps, 's3')));
    const inc = await pullSnapshot(pool, {
      source: `backup:${CONTAINER_BTRFS}/backups/s4`,
      target: local,
      compress: 'zstd',
    });
    expect(inc.parent).toBe(`${CONTAINER_BTRFS}/backups/s3`);
    expect(inc.received.parentUuid).toBe(uuidOf(path.join(local, 's3')));
    expect(treeOf(path.join(local, 's4'))).toEqual(treeOf(path.join(snaps, 's4')));
    expect(treeOf(path.join(local, 's3'))).toEqual(treeOf(path.join(snaps, 's3')));
  });

  it('relays between two remote directories through this process', async () => {
    const a = await relaySnapshot(pool, {
      source: `root:${CONTAINER_BTRFS}/backups/s1`,
      target: `backup:${CONTAINER_BTRFS}/relay`,
    });
    expect(a.parent).toBeNull();
    const b = await relaySnapshot(pool, {
      source: `root:${CONTAINER_BTRFS}/backups/s2`,
      target: `backup:${CONTAINER_BTRFS}/relay`,
    });
    expect(b.parent).toBe(`${CONTAINER_BTRFS}/backups/s1`);
    expect(b.received.receivedUuid).toBe(uuidOf(path.join(snaps, 's2')));
    expect(treeOf(path.join(dstHost, 'relay', 's2'))).toEqual(treeOf(path.join(snaps, 's2')));
    expect(treeOf(path.join(dstHost, 'relay', 's1'))).toEqual(treeOf(path.join(snaps, 's1')));
  });

  it('refuses a non-btrfs destination, a writable source and a same-name collision, with clear errors', async () => {
    const notBtrfs = await rejection(
      sendSnapshot(pool, { source: path.join(snaps, 's1'), target: 'backup:/tmp' }),
    );
    expect(notBtrfs).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_BTRFS_NOT_BTRFS' });
    expect(notBtrfs.message).toMatch(/backup:\/tmp is on \S+, not btrfs/);

    const writable = await rejection(
      sendSnapshot(pool, { source: vol, target: `backup:${CONTAINER_BTRFS}/taken` }),
    );
    expect(writable).toMatchObject({ kind: 'local', code: 'SSHMUX_ERR_BTRFS_WRITABLE' });
    expect(writable.message).toMatch(/btrfs refuses to send writable subvolumes/);

    const missing = await rejection(
      sendSnapshot(pool, { source: path.join(snaps, 's1'), target: 'root:/nowhere' }),
    );
    expect(missing).toMatchObject({ code: 'SSHMUX_ERR_BTRFS_MISSING' });

    await sshd.sh(
      `btrfs subvolume create ${CONTAINER_BTRFS}/taken/s1 && echo mine > ${CONTAINER_BTRFS}/taken/s1/keep`,
    );
    const taken = await rejection(
      sendSnapshot(pool, { source: path.join(snaps, 's1'), target: `backup:${CONTAINER_BTRFS}/taken` }),
    );
    expect(taken).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_BTRFS_EXISTS' });
    expect(taken.message).toMatch(/already exists and is not a copy/);
    expect(readFileSync(path.join(dstHost, 'taken', 's1', 'keep'), 'utf8')).toBe('mine\n');

    const noParent = await rejection(
      sendSnapshot(pool, {
        source: path.join(snaps, 's2'),
        target: `backup:${CONTAINER_BTRFS}/taken`,
        parent: path.join(snaps, 's1'),
      }),
    );
    expect(noParent).toMatchObject({ code: 'SSHMUX_ERR_BTRFS_NO_PARENT' });
  });

  it('survives a connection cut mid-stream: error, partial removed, no receive left running, re-run succeeds', async () => {
    const bigDir = path.join(sshd.btrfs!.source, 'bigsnaps');
    mkdirSync(bigDir);
    const bigVol = path.join(sshd.btrfs!.source, 'bigvol');
    sh('btrfs', ['subvolume', 'create', bigVol]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < 200; i++) chunks.push(randomBytes(MiB));
    writeFileSync(path.join(bigVol, 'random.bin'), Buffer.concat(chunks));
    chunks.length = 0;
    const big = path.join(bigDir, 'big');
    sh('btrfs', ['subvolume', 'snapshot', '-r', bigVol, big]);
    await sshd.sh(`mkdir -p ${CONTAINER_BTRFS}/cut`);

    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    const cutPool = poolFor(sshd, proxy.port);
    try {
      let cutAt = 0;
      let running: Promise<string[]> | undefined;
      let runningSeen: string[] | undefined;
      const err = await rejection(
        sendSnapshot(cutPool, {
          source: big,
          target: `cut:${CONTAINER_BTRFS}/cut`,
          // Slow enough that the look at the server (a `docker exec`, seconds on a loaded
          // machine) returns long before the last byte: the cut must land mid-stream.
          rateLimit: '16M',
          progressInterval: 0,
          stallTimeout: 30_000,
          onProgress: (e) => {
            // Look at the server mid-stream first, so "no receive left" below is not vacuous.
            if (!running && e.bytes > 10 * MiB) {
              running = sshd.processes('btrfs receive').then((p) => {
                runningSeen = p;
                return p;
              });
            }
            if (cutAt === 0 && runningSeen !== undefined && e.bytes > 30 * MiB) {
              cutAt = e.bytes;
              proxy.cutAll();
            }
          },
        }),
      );
      expect(cutAt).toBeGreaterThan(0);
      expect(runningSeen!.join('\n')).toMatch(/sudo -n \S*btrfs receive -q -e \/mnt\/btrfs\/cut/);
      expect(err).toBeInstanceOf(BtrfsTransferError);
      const e = err as BtrfsTransferError;
      expect(e.kind).toBe('network');
      expect(e.bytes).toBeLessThan(150 * MiB);
      // The receiving stage removes its partial itself; the client finds it gone, or removes it.
      expect(e.cleanup).toMatch(/removed partial subvolume|nothing to remove at/);
      expect(e.message).toMatch(/send \(local\)/);
      expect(e.message).toMatch(/receive \(cut\)/);
      // No orphan `sudo btrfs receive` on the server, and no partial subvolume left behind.
      await until(
        'no btrfs receive on the server',
        () => sshd.processes('btrfs receive'),
        (p) => p.length === 0,
      );
      await until(
        'partial subvolume removed',
        async () => (await sshd.exec(['ls', '-A', `${CONTAINER_BTRFS}/cut`])).stdout.trim(),
        (ls) => ls === '',
      );

      const again = await sendSnapshot(cutPool, { source: big, target: `cut:${CONTAINER_BTRFS}/cut` });
      expect(again.status).toBe('sent');
      expect(again.bytes).toBeGreaterThan(200 * MiB);
      expect(treeOf(path.join(dstHost, 'cut', 'big'))).toEqual(treeOf(big));
    } finally {
      await cutPool.close();
    }
  });
});
