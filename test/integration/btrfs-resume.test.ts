import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ProgressEvent,
  pullSnapshot,
  type ReplicateOptions,
  type ReplicateResult,
  relaySnapshot,
  type SshmuxError,
  type SshPool,
  sendSnapshot,
} from '../../src/index.js';
import { CLI, runCli } from '../helpers/cli.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { CONTAINER_BTRFS as C, type StartedSshd, startSshd } from '../helpers/sshd.js';

const MiB = 1024 * 1024;
type Replicate = (pool: SshPool, options: ReplicateOptions) => Promise<ReplicateResult>;

function sh(script: string): string {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function rejection(p: Promise<unknown>): Promise<SshmuxError> {
  try {
    await p;
  } catch (err) {
    return err as SshmuxError;
  }
  throw new Error('expected a rejection');
}

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 30_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

/** Size and SHA-256 of a fresh `btrfs send` (run where the snapshot is). */
function parseStream(out: string): { size: number; sha: string } {
  const [sha, size] = out.trim().split(/\s+/);
  return { sha: sha!, size: Number(size) };
}
const STREAM = (args: string) =>
  `f=$(mktemp -u); mkfifo $f; wc -c <$f >$f.n & btrfs send -q ${args} | tee $f | sha256sum | cut -d' ' -f1; wait; cat $f.n; rm -f $f $f.n`;

describe('btrfs resume: an interrupted transfer continues from the receiver spool', () => {
  let sshd: StartedSshd;
  let pool: SshPool;
  let vol: string;
  let snaps: string;

  /**
   * A read-only snapshot of a source volume after adding `mib` MiB of random data to it: the
   * shared one (the 1 GiB snapshots, one the parent of the next), or one of its own.
   */
  function snapshot(name: string, mib: number, own = false): string {
    const v = own ? path.join(sshd.btrfs!.source, `vol-${name}`) : vol;
    if (own) sh(`btrfs subvolume create '${v}' >/dev/null`);
    sh(`head -c ${mib * MiB} /dev/urandom > '${v}/${name}.bin'`);
    const p = path.join(snaps, name);
    sh(`btrfs subvolume snapshot -r '${v}' '${p}' >/dev/null`);
    return p;
  }

  const spoolOf = (dir: string, name: string) => `${dir}/.sshmux-resume/${name}`;
  const spoolSize = async (dir: string, name: string) =>
    Number((await sshd.sh(`stat -c %s ${spoolOf(dir, name)}/stream 2>/dev/null || echo 0`)).trim());

  /** Run `fn` through a fault proxy and cut every connection once the stream passed `fraction` of `size`. */
  async function cutAt(
    fn: Replicate,
    options: ReplicateOptions,
    size: number,
    fraction = 0.6,
  ): Promise<{ err: SshmuxError; at: number; events: ProgressEvent[] }> {
    await using proxy = await FaultProxy.start({ targetPort: sshd.port, seed: 7 });
    const cutPool = sshd.pool({ resolve: (d) => sshd.hostConfig(d, { port: proxy.port }) });
    let at = 0;
    const events: ProgressEvent[] = [];
    try {
      const err = await rejection(
        fn(cutPool, {
          ...options,
          progressInterval: 0,
          stallTimeout: 20_000,
          onProgress: (e) => {
            events.push(e);
            if (at === 0 && e.bytes >= fraction * size) {
              at = e.bytes;
              proxy.cutAll();
            }
          },
        }),
      );
      return { err, at, events };
    } finally {
      await cutPool.close();
    }
  }

  function report(what: string, size: number, first: number, r: ReplicateResult) {
    const pct = (n: number) => `${((100 * n) / size).toFixed(1)} %`;
    console.log(
      `[resume] ${what}: stream ${size} B; cut after ${first} B (${pct(first)}); second run sent ${r.bytes} B ` +
        `(${pct(r.bytes)}), replayed ${r.resumedBytes} B from the spool, ${Math.round(r.durationMs)} ms`,
    );
  }

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true, btrfsSize: '8G' });
    pool = sshd.pool({ resolve: (d) => sshd.hostConfig(d) });
    vol = path.join(sshd.btrfs!.source, 'vol');
    snaps = path.join(sshd.btrfs!.source, 'snaps');
    sh(`btrfs subvolume create '${vol}' >/dev/null`);
    mkdirSync(snaps);
    // `backup` (btrfs through sudo) owns these directories, as an admin sets up a backup target.
    await sshd.sh(
      `mkdir -p ${C}/a ${C}/k ${C}/z ${C}/swap ${C}/relay ${C}/gone && chown backup ${C}/a ${C}/swap`,
    );
  }, 240_000);

  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('a 1 GiB send cut at ~60 % by the network resumes: the rerun sends the rest only, and verifies', async () => {
    const snap = snapshot('big', 1024);
    const { size, sha } = parseStream(sh(STREAM(`'${snap}'`)));
    const target = `backup:${C}/a`;
    const { err, at } = await cutAt(sendSnapshot, { source: snap, target }, size);
    expect(err.message).toMatch(
      /kept the resume spool backup:\/mnt\/btrfs\/a\/\.sshmux-resume\/big: run the same command again/,
    );
    expect(await sshd.sh(`ls ${C}/a`)).toBe('');
    expect(await spoolSize(`${C}/a`, 'big')).toBeGreaterThan(0.5 * size);
    const r = await sendSnapshot(pool, { source: snap, target });
    report('send, network cut', size, at, r);
    expect(r.status).toBe('sent');
    expect(r.resumedBytes).toBeGreaterThanOrEqual(0.55 * size);
    expect(r.bytes).toBeLessThanOrEqual(0.45 * size);
    expect(r.bytes + r.resumedBytes).toBe(size);
    expect(r.sha256).toBe(sha);
    expect(r.resume).toMatch(/^resumed: \d+ bytes replayed from the receiver's spool/);
    expect(r.received.readonly).toBe(true);
    expect(await sshd.sh(`ls -A ${C}/a`)).toBe('big\n');
  }, 600_000);

  it('an incremental send cut at ~60 % resumes with the same parent', async () => {
    const snap = snapshot('big2', 1024);
    const parent = path.join(snaps, 'big');
    const { size, sha } = parseStream(sh(STREAM(`-p '${parent}' '${snap}'`)));
    const target = `backup:${C}/a`;
    const { at } = await cutAt(sendSnapshot, { source: snap, target }, size);
    expect(await spoolSize(`${C}/a`, 'big2')).toBeGreaterThan(0.5 * size);
    const r = await sendSnapshot(pool, { source: snap, target });
    report('incremental send, network cut', size, at, r);
    expect(r.parent).toBe(parent);
    expect(r.bytes).toBeLessThanOrEqual(0.45 * size);
    expect(r.sha256).toBe(sha);
    expect(r.received.parentUuid).not.toBeNull();
    sh(`btrfs subvolume delete '${snap}' >/dev/null && rm -f '${vol}/big2.bin'`);
  }, 600_000);

  it('a CLI send whose client is killed with SIGKILL at ~60 % resumes from another process', async () => {
    const snap = path.join(snaps, 'big');
    const { size, sha } = parseStream(sh(STREAM(`'${snap}'`)));
    const config = sshd.writeSshConfig('nas', 'root');
    const args = ['btrfs', 'send', '-F', config, '--json', snap, `nas:${C}/k`];
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    });
    let seen = '';
    let at = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, s) => resolve(s)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        seen = (seen + d.toString()).slice(-4096);
        const m = [...seen.matchAll(/"bytes":(\d+)/g)].at(-1);
        if (m && Number(m[1]) >= 0.6 * size && at === 0) {
          at = Number(m[1]);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`the client ended before it was killed: ${seen}`)));
    });
    expect(await exited).toBe('SIGKILL');
    await until(
      'no btrfs receive on the server',
      () => sshd.processes('btrfs receive'),
      (p) => p.length === 0,
    );
    expect(await spoolSize(`${C}/k`, 'big')).toBeGreaterThan(0.5 * size);
    const again = await runCli(
      ['btrfs', 'send', '-F', config, '--json', '--no-progress', snap, `nas:${C}/k`],
      {
        env: { ...process.env, SSH_AUTH_SOCK: '' },
        timeoutMs: 240_000,
      },
    );
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const done = JSON.parse(again.stdout.toString().trim().split('\n').at(-1)!) as ReplicateResult & {
      event: string;
    };
    report('CLI send, client SIGKILLed', size, at, done);
    expect(done.event).toBe('done');
    expect(done.bytes).toBeLessThanOrEqual(0.45 * size);
    expect(done.resumedBytes).toBeGreaterThan(0.5 * size);
    expect(done.sha256).toBe(sha);
    expect(await sshd.sh(`ls -A ${C}/k`)).toBe('big\n');
  }, 600_000);

  it('a 1 GiB pull with --compress zstd cut at ~60 % resumes into the local spool', async () => {
    const local = sshd.btrfs!.extra('pull');
    const source = `root:${C}/a/big`;
    const { size, sha } = parseStream(await sshd.sh(STREAM(`${C}/a/big`)));
    const { at } = await cutAt(pullSnapshot, { source, target: local, compress: 'zstd' }, size);
    expect(Number(sh(`stat -c %s '${local}/.sshmux-resume/big/stream'`))).toBeGreaterThan(0.5 * size);
    const r = await pullSnapshot(pool, { source, target: local, compress: 'zstd' });
    report('pull --compress zstd, network cut', size, at, r);
    // Random data: the compressed bytes are about the stream's.
    expect(r.bytes).toBeLessThanOrEqual(0.45 * size);
    expect(r.resumedBytes).toBeGreaterThan(0.5 * size);
    expect(r.sha256).toBe(sha);
    expect(sh(`ls -A '${local}'`)).toBe('big\n');
  }, 600_000);

  it('a relay with zstd and a rate limit resumes, and the limit holds on the resumed part', async () => {
    await sshd.sh(
      `btrfs subvolume create ${C}/rsrc >/dev/null && head -c ${48 * MiB} /dev/urandom >${C}/rsrc/f && btrfs subvolume snapshot -r ${C}/rsrc ${C}/rs >/dev/null`,
    );
    const { size, sha } = parseStream(await sshd.sh(STREAM(`${C}/rs`)));
    const opts = {
      source: `root:${C}/rs`,
      target: `root:${C}/relay`,
      compress: 'zstd' as const,
      rateLimit: '12M',
    };
    // Two hops of SSH windows and pipes hold what was in flight: on a small stream that is a
    // few per cent, so the cut comes a little later than 60 %.
    const { at } = await cutAt(relaySnapshot, opts, size, 0.65);
    const events: ProgressEvent[] = [];
    const r = await relaySnapshot(pool, { ...opts, progressInterval: 0, onProgress: (e) => events.push(e) });
    report('relay --compress zstd --limit-rate 12M, network cut', size, at, r);
    expect(r.bytes).toBeLessThanOrEqual(0.45 * size);
    expect(r.sha256).toBe(sha);
    const moving = events.filter((e) => e.bytes > 0);
    const [first, last] = [moving[0]!, moving.at(-1)!];
    const rate = (last.bytes - first.bytes) / ((last.elapsedMs - first.elapsedMs) / 1000);
    console.log(`[resume] relay: resumed part at ${(rate / MiB).toFixed(1)} MiB/s under a 12 MiB/s limit`);
    expect(rate).toBeLessThanOrEqual(12 * MiB * 1.1);
  }, 240_000);

  it('refuses to resume once the source was replaced by another snapshot of the same name, and removes the spool', async () => {
    const snap = snapshot('swap', 48, true);
    const { size } = parseStream(sh(STREAM(`'${snap}'`)));
    const target = `backup:${C}/swap`;
    await cutAt(sendSnapshot, { source: snap, target, rateLimit: '12M' }, size);
    expect(await spoolSize(`${C}/swap`, 'swap')).toBeGreaterThan(0);
    const swapVol = path.join(sshd.btrfs!.source, 'vol-swap');
    sh(`btrfs subvolume delete '${snap}' >/dev/null && echo changed >'${swapVol}/swap.bin'`);
    sh(`btrfs subvolume snapshot -r '${swapVol}' '${snap}' >/dev/null`);
    const err = await rejection(sendSnapshot(pool, { source: snap, target }));
    expect(err).toMatchObject({ code: 'SSHMUX_ERR_BTRFS_RESUME_MISMATCH' });
    expect(err.message).toMatch(
      /refusing to resume backup:\/mnt\/btrfs\/swap\/swap: its spool held \d+ bytes of a stream from another source or parent \(spooled source uuid=\S+ .*now source uuid=\S+ .*The spool is removed; run again/,
    );
    expect(await sshd.sh(`ls -A ${C}/swap`)).toBe('');
    const r = await sendSnapshot(pool, { source: snap, target });
    expect(r.resumedBytes).toBe(0);
    expect(r.received.receivedUuid).toBe(
      sh(`btrfs subvolume show '${snap}' | sed -n 's/^[[:space:]]*UUID:[[:space:]]*//p'`).trim(),
    );
  }, 240_000);

  it('a partial subvolume left by a receiver killed outright is recognised by its UUID and replaced, the transfer resumed', async () => {
    const snap = snapshot('lost', 48, true);
    const { size, sha } = parseStream(sh(STREAM(`'${snap}'`)));
    const config = sshd.writeSshConfig('nas', 'root');
    const args = ['btrfs', 'send', '-F', config, '--json', '--limit-rate', '12M', snap, `nas:${C}/gone`];
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        seen = (seen + d.toString()).slice(-4096);
        const m = [...seen.matchAll(/"bytes":(\d+)/g)].at(-1);
        if (m && Number(m[1]) >= 0.5 * size) resolve();
      });
    });
    // As after a power loss: nothing on either end gets to clean up.
    const pids = (await sshd.processes(`${C}/gone`)).map((l) => l.split(' ')[0]).join(' ');
    await sshd.sh(`kill -STOP ${pids}`);
    child.kill('SIGKILL');
    await exited;
    await sshd.sh(`kill -KILL ${pids}`);
    await until(
      'no btrfs receive on the server',
      () => sshd.processes('btrfs receive'),
      (p) => p.length === 0,
    );
    const uuid = (
      await sshd.sh(`btrfs subvolume show ${C}/gone/lost | sed -n 's/^[[:space:]]*UUID:[[:space:]]*//p'`)
    ).trim();
    expect(await sshd.sh(`btrfs subvolume show ${C}/gone/lost | grep 'Received UUID'`)).toMatch(
      /Received UUID:\s+-/,
    );
    expect((await sshd.sh(`cat ${C}/gone/.sshmux-resume/lost/partial`)).trim()).toBe(uuid);
    const again = await runCli(['btrfs', 'send', '-F', config, '--no-progress', snap, `nas:${C}/gone`], {
      env: { ...process.env, SSH_AUTH_SOCK: '' },
      timeoutMs: 120_000,
    });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const out = again.stdout.toString();
    expect(out).toMatch(
      /resume: resumed: \d+ bytes replayed from the receiver's spool, the rest sent; replaced the partial subvolume an interrupted run left \(recognised by the UUID its spool recorded\)/,
    );
    expect(out).toContain(`stream SHA-256 ${sha} on both ends`);
    expect(await sshd.sh(`ls -A ${C}/gone`)).toBe('lost\n');
    // A subvolume of the same name that is not this tool's unfinished work still blocks.
    await sshd.sh(
      `btrfs subvolume delete ${C}/gone/lost >/dev/null && btrfs subvolume create ${C}/gone/lost >/dev/null`,
    );
    const err = await rejection(sendSnapshot(pool, { source: snap, target: `root:${C}/gone` }));
    expect(err.message).toMatch(/already exists and is not a copy of .*refusing to overwrite it/);
  }, 240_000);
});
