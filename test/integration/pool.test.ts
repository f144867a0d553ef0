import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecError } from '../../src/errors.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { eventually } from './pool-helpers.js';

describe('SshPool against a real sshd (MaxSessions 10)', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd({ sshdOptions: ['MaxSessions=10'] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('execs argv and strings, with utf8 and Buffer output, exit codes, stdin and check', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    const r = await pool.exec(host, ['printf', '%s|', 'a b', "it's", '$HOME'], { encoding: 'utf8' });
    expect(r).toMatchObject({ stdout: "a b|it's|$HOME|", stderr: '', exitCode: 0, signal: null });
    const b = await pool.exec(host, 'echo out; echo err >&2; exit 3');
    expect(Buffer.isBuffer(b.stdout)).toBe(true);
    expect(b.stdout.toString()).toBe('out\n');
    expect(b.stderr.toString()).toBe('err\n');
    expect(b.exitCode).toBe(3);
    const err = await pool.exec(host, 'echo boom >&2; exit 4', { check: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ exitCode: 4, kind: 'remote', stderr: 'boom\n' });
    const s = await pool.exec(host, ['cat'], { stdin: 'fed through stdin', encoding: 'utf8' });
    expect(s.stdout).toBe('fed through stdin');
    const killed = await pool.exec(host, 'kill -TERM $$');
    expect(killed).toMatchObject({ exitCode: null, signal: 'TERM' });
  });

  it('spawns with streams, stdin from the caller and the exit status', async () => {
    await using pool = sshd.pool();
    const proc = await pool.spawn(sshd.hostConfig(), ['sh', '-c', 'tr a-z A-Z; exit 7']);
    const out: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.resume();
    proc.stdin.end('hello spawn\n');
    expect(await proc.exited).toEqual({ code: 7, signal: null });
    expect(Buffer.concat(out).toString()).toBe('HELLO SPAWN\n');
    expect(pool.stats().openChannels).toBe(0);
  });

  it('stdin honours the SSH window (backpressure) and a remote that stops reading early is no failure', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    const proc = await pool.spawn(host, 'sleep 1; cat >/dev/null');
    proc.stdout.resume();
    proc.stderr.resume();
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let written = 0;
    while (written < 64 * chunk.length && proc.stdin.write(chunk)) written += chunk.length;
    // The server's window (2 MiB for OpenSSH sessions) stops us long before 64 MiB.
    expect(written).toBeLessThan(16 * chunk.length);
    proc.stdin.end();
    expect(await proc.exited).toEqual({ code: 0, signal: null });

    const r = await pool.exec(host, 'head -c 5', {
      stdin: Buffer.alloc(8 * 1024 * 1024, 'a'),
      encoding: 'utf8',
    });
    expect(r).toMatchObject({ stdout: 'aaaaa', exitCode: 0 });
  });

  it('leases an sftp session and releases its slot on close', async () => {
    await using pool = sshd.pool();
    const lease = await pool.sftp(sshd.hostConfig());
    expect(pool.stats().openChannels).toBe(1);
    const list = await new Promise<string[]>((resolve, reject) =>
      lease.sftp.readdir('/', (err, l) => (err ? reject(err) : resolve(l.map((e) => e.filename)))),
    );
    expect(list).toContain('etc');
    await lease.close();
    await lease.close();
    expect(pool.stats().openChannels).toBe(0);
  });

  it('runs 200 concurrent execs under MaxSessions 10 with at most maxConnectionsPerHost logins', async () => {
    const before = await sshd.countLogins('backup');
    await using pool = sshd.pool({ concurrency: 200 });
    const host = sshd.hostConfig();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => pool.exec(host, `sleep 0.2; echo ${i}`, { encoding: 'utf8' })),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toEqual([]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.stdout : ''))).toEqual(
      Array.from({ length: 200 }, (_, i) => `${i}\n`),
    );
    const logins = (await sshd.countLogins('backup')) - before;
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(logins).toBeLessThanOrEqual(pool.options.maxConnectionsPerHost);
    expect(pool.stats()).toMatchObject({ openChannels: 0, queued: 0 });
  });

  it('learns MaxSessions when channelsPerConnection overshoots it, without failing a caller', async () => {
    await using pool = sshd.pool({
      concurrency: 100,
      channelsPerConnection: 16,
      maxConnectionsPerHost: 3,
    });
    const host = sshd.hostConfig();
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => pool.exec(host, 'sleep 0.3')));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const capacities = pool.stats().perHost[0]!.capacities;
    expect(capacities.length).toBeGreaterThanOrEqual(2);
    for (const c of capacities) expect(c).toBeLessThanOrEqual(10);
    expect(pool.stats().openChannels).toBe(0);
  });

  it('makes exactly one login for 50 concurrent first calls', async () => {
    const before = await sshd.countLogins('backup');
    await using pool = sshd.pool({ maxConnectionsPerHost: 1 });
    const host = sshd.hostConfig();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => pool.exec(host, 'echo ok', { encoding: 'utf8' })),
    );
    expect(results.every((r) => r.stdout === 'ok\n')).toBe(true);
    expect((await sshd.countLogins('backup')) - before).toBe(1);

    // check() is single-flight too, with default options.
    await using pool2 = sshd.pool();
    await Promise.all(Array.from({ length: 50 }, () => pool2.check(host)));
    expect((await sshd.countLogins('backup')) - before).toBe(2);
    expect(pool2.stats().connections).toBe(1);
  });

  it('runs 100 sequential execs on a warm connection fast (TCP_NODELAY: with Nagle each waits ~40 ms)', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    await pool.exec(host, 'true');
    const start = performance.now();
    for (let i = 0; i < 100; i++) await pool.exec(host, 'true');
    const ms = performance.now() - start;
    expect(ms).toBeLessThan(2500);
    expect(pool.stats().connections).toBe(1);
  });

  it('close() mid-flight lets running work finish, cancels queued work, refuses new work', async () => {
    const pool = sshd.pool({ concurrency: 5 });
    const host = sshd.hostConfig();
    const runs = Array.from({ length: 30 }, () =>
      pool.exec(host, 'sleep 0.5; echo done', { encoding: 'utf8' }),
    );
    await eventually(() => pool.stats().openChannels === 5, 10_000, '5 running');
    const closing = pool.close();
    await expect(pool.exec(host, 'true')).rejects.toMatchObject({
      kind: 'aborted',
      code: 'SSHMUX_ERR_POOL_CLOSED',
    });
    const settled = await Promise.allSettled(runs);
    await closing;
    const ok = settled.filter((r) => r.status === 'fulfilled');
    const cancelled = settled.filter((r) => r.status === 'rejected');
    expect(ok).toHaveLength(5);
    expect(cancelled).toHaveLength(25);
    for (const r of cancelled) expect(r.reason).toMatchObject({ kind: 'aborted' });
    expect(pool.stats()).toMatchObject({ connections: 0, openChannels: 0, queued: 0 });
  });

  it('abort kills the remote process and frees the slot', async () => {
    await using pool = sshd.pool({ maxConnectionsPerHost: 1, channelsPerConnection: 1 });
    const host = sshd.hostConfig();
    const ac = new AbortController();
    const running = pool.exec(host, 'sleep 987', { signal: ac.signal }).catch((e: unknown) => e);
    await eventually(async () => (await sshd.processes('sleep 987')).length > 0, 10_000, 'sleep started');
    ac.abort();
    expect(await running).toMatchObject({ kind: 'aborted' });
    await eventually(async () => (await sshd.processes('sleep 987')).length === 0, 5_000, 'sleep 987 gone');
    expect(pool.stats().openChannels).toBe(0);
    // The one slot is free again.
    expect((await pool.exec(host, 'echo next', { encoding: 'utf8' })).stdout).toBe('next\n');
  });

  it('timeout kills the remote process, fails with kind timeout and frees the slot', async () => {
    await using pool = sshd.pool({ maxConnectionsPerHost: 1, channelsPerConnection: 1 });
    const host = sshd.hostConfig();
    const started = Date.now();
    const err = await pool.exec(host, 'sleep 986', { timeout: 1000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(10_000);
    await eventually(async () => (await sshd.processes('sleep 986')).length === 0, 5_000, 'sleep 986 gone');
    expect(pool.stats().openChannels).toBe(0);
    expect((await pool.exec(host, 'echo next', { encoding: 'utf8' })).stdout).toBe('next\n');
  });

  it('spawn kill() ends the remote process', async () => {
    await using pool = sshd.pool();
    const proc = await pool.spawn(sshd.hostConfig(), 'sleep 985');
    proc.stdout.resume();
    proc.stderr.resume();
    await eventually(async () => (await sshd.processes('sleep 985')).length > 0, 10_000, 'sleep started');
    proc.kill();
    expect(await proc.exited).toEqual({ code: null, signal: 'TERM' });
    await eventually(async () => (await sshd.processes('sleep 985')).length === 0, 5_000, 'sleep 985 gone');
    expect(pool.stats().openChannels).toBe(0);
  });
});
