import { Readable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { AbortedError, AuthError, NetworkError } from '../../../src/errors.js';
import { SshPool, type SshPoolOptions } from '../../../src/index.js';
import type { RemoteProcess } from '../../../src/pool/types.js';
import { type FakeChannel, type FakeServer, fakeFactory, until } from './fake-connection.js';

const host = plainHostConfig({ host: 'h.example', user: 'u', identityFiles: [] });

function setup(server: Partial<FakeServer> = {}, options: SshPoolOptions = {}) {
  const s: FakeServer = { maxSessions: 10, ...server };
  const { factory, made } = fakeFactory(s);
  const pool = new SshPool({ connectionFactory: factory, concurrency: 1000, ...options });
  const channels = (): FakeChannel[] => made.flatMap((c) => c.channels);
  const open = (): FakeChannel[] => channels().filter((c) => !c.isClosed);
  return { pool, made, server: s, channels, open };
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SshPool with fake connections', () => {
  it('makes one handshake for 50 concurrent first calls (single-flight)', async () => {
    const gate = deferred();
    const { pool, made, channels } = setup(
      { maxSessions: 100, connect: () => gate.promise },
      { channelsPerConnection: 100 },
    );
    const results = Array.from({ length: 50 }, (_, i) =>
      pool.exec(host, ['echo', String(i)], { encoding: 'utf8' }),
    );
    await until(() => made.length === 1, 'first connect');
    await new Promise((r) => setTimeout(r, 20));
    expect(made).toHaveLength(1);
    gate.resolve();
    await until(() => channels().length === 50, '50 channels');
    for (const ch of channels()) ch.finish(0, undefined, `${ch.command.split(' ')[1]}\n`);
    const out = await Promise.all(results);
    expect(out.map((r) => r.stdout)).toEqual(Array.from({ length: 50 }, (_, i) => `${i}\n`));
    expect(made).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ connections: 1, openChannels: 0, queued: 0 });
  });

  it("counts a tracked kill's second channel in its connection's slots, so a refusal meanwhile learns the true capacity", async () => {
    const { pool, made, open } = setup(
      { maxSessions: 3 },
      { channelsPerConnection: 10, maxConnectionsPerHost: 1 },
    );
    const tracked = await pool.spawn(host, 'sleep 1000', { track: true });
    const other = await pool.spawn(host, 'sleep 1001');
    const trackedChannel = open().find((c) => c.command.includes('sleep 1000'))!;
    // A server that ignores signal requests (OpenSSH for root logins) holds the channel open.
    trackedChannel.close = () => {};
    tracked.kill();
    await until(() => open().some((c) => c.command.includes('sshmux-kill')), 'the kill channel');
    // The server now counts three sessions; a new open is refused while the kill runs.
    const third = pool.spawn(host, 'sleep 1002');
    await new Promise((r) => setTimeout(r, 50));
    expect(pool.stats().perHost[0]?.capacities).toEqual([3]);
    const killer = open().find((c) => c.command.includes('sshmux-kill'))!;
    trackedChannel.finish(null, 'TERM');
    killer.finish(0);
    const p3 = await third;
    expect(made).toHaveLength(1);
    for (const c of open()) c.finish(0);
    await Promise.all([tracked.exited.catch(() => {}), other.exited, p3.exited]);
    expect(pool.stats().perHost[0]?.capacities).toEqual([3]);
    await pool.close();
  });

  it('learns capacity from refused channels and spills to a new connection without the caller noticing', async () => {
    const { pool, made, open } = setup(
      { maxSessions: 3 },
      { channelsPerConnection: 10, maxConnectionsPerHost: 3 },
    );
    const procs = await Promise.all(Array.from({ length: 7 }, () => pool.spawn(host, 'sleep 1')));
    expect(procs).toHaveLength(7);
    expect(made).toHaveLength(3);
    expect(made.map((c) => c.serverSessions)).toEqual([3, 3, 1]);
    // Capacity drops to what each connection held when the server refused (3); the last one never hit the limit.
    expect(pool.stats().perHost[0]?.capacities).toEqual([3, 3, 10]);
    expect(pool.stats().openChannels).toBe(7);
    for (const ch of open()) ch.finish(0);
    await Promise.all(procs.map((p) => p.exited));
    expect(pool.stats().openChannels).toBe(0);
  });

  it('queues past maxConnectionsPerHost instead of failing, and serves the queue as slots free', async () => {
    const { pool, made, open } = setup({ maxSessions: 2 }, { maxConnectionsPerHost: 2 });
    const started: RemoteProcess[] = [];
    const all = Array.from({ length: 9 }, () => pool.spawn(host, 'work').then((p) => started.push(p)));
    await until(() => started.length === 4, '4 running');
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toHaveLength(4);
    expect(made).toHaveLength(2);
    expect(pool.stats().queued).toBe(5);
    while (started.length < 9 || open().length > 0) {
      open()[0]?.finish(0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(all);
    expect(made).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ openChannels: 0, queued: 0 });
  });

  it('frees a slot on the channel close, not on the exit status', async () => {
    const { pool, open } = setup({}, { channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const first = await pool.spawn(host, 'one');
    let secondStarted = false;
    const second = pool.spawn(host, 'two').then((p) => {
      secondStarted = true;
      return p;
    });
    open()[0]!.exitOnly(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(secondStarted).toBe(false);
    expect(pool.stats().openChannels).toBe(1);
    open()[0]!.finish(0);
    expect(await first.exited).toEqual({ code: 0, signal: null });
    await second;
    expect(secondStarted).toBe(true);
  });

  it('bounds operations across hosts with `concurrency`', async () => {
    const { pool, open } = setup({}, { concurrency: 3 });
    const other = plainHostConfig({ host: 'other.example', user: 'u', identityFiles: [] });
    const runs = Array.from({ length: 8 }, (_, i) => pool.exec(i % 2 ? host : other, 'x'));
    await until(() => open().length === 3, '3 open');
    await new Promise((r) => setTimeout(r, 20));
    expect(open()).toHaveLength(3);
    expect(pool.stats().queued).toBe(5);
    let done = 0;
    while (done < 8) {
      const o = open();
      expect(o.length).toBeLessThanOrEqual(3);
      if (o[0]) {
        o[0].finish(0);
        done++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(runs);
    expect(pool.stats().hosts).toBe(2);
  });

  it('evicts a dead connection: the running command fails with kind network, the next one gets a fresh connection', async () => {
    const { pool, made, open } = setup();
    const running = await pool.spawn(host, 'long');
    made[0]!.die();
    await expect(running.exited).rejects.toMatchObject({ kind: 'network', retryable: true });
    expect(pool.stats().connections).toBe(0);
    const next = pool.exec(host, 'after', { encoding: 'utf8' });
    await until(() => open().length === 1, 'new channel');
    open()[0]!.finish(0, undefined, 'ok');
    expect((await next).stdout).toBe('ok');
    expect(made).toHaveLength(2);
    expect(made[0]!.closedBy).toBe('died');
    expect(made[0]!.channels).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ hosts: 1, connections: 1 });
  });

  it('retries an operation that had not started when its connection died on a fresh connection', async () => {
    const { pool, made, open } = setup({}, { channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const first = await pool.spawn(host, 'first');
    const waiting = pool.exec(host, 'second', { encoding: 'utf8' });
    await new Promise((r) => setTimeout(r, 10));
    expect(pool.stats().queued).toBe(1);
    made[0]!.die();
    await expect(first.exited).rejects.toBeInstanceOf(NetworkError);
    await until(() => open().length === 1, 'retried on a new connection');
    expect(made).toHaveLength(2);
    open()[0]!.finish(0, undefined, 'second ran');
    expect((await waiting).stdout).toBe('second ran');
  });

  it('fails every waiter with a terminal auth error, does not retry, and never reuses the failed connection', async () => {
    let fail = true;
    const { pool, made, open } = setup({
      connect: async () => {
        if (fail) throw new AuthError('denied');
      },
    });
    const calls = Array.from({ length: 5 }, () => pool.exec(host, 'x').catch((e: unknown) => e));
    const errors = await Promise.all(calls);
    expect(made).toHaveLength(1);
    for (const e of errors) expect(e).toMatchObject({ kind: 'auth', retryable: false });
    fail = false;
    const ok = pool.exec(host, 'x');
    await until(() => open().length === 1, 'channel');
    open()[0]!.finish(0);
    await ok;
    expect(made).toHaveLength(2);
  });

  it('closes idle connections after persist, and a HostConfig ControlPersist overrides it', async () => {
    const { pool, made, open } = setup({}, { persist: 30 });
    const r = pool.exec(host, 'x');
    await until(() => open().length === 1, 'channel');
    open()[0]!.finish(0);
    await r;
    expect(made[0]!.isClosed).toBe(false);
    expect(made[0]!.refed).toBe(false);
    await until(() => made[0]!.isClosed, 'idle close');
    expect(made[0]!.closedBy).toBe('close');
    // A host with no connection left is forgotten (a long-lived daemon sees many hosts).
    expect(pool.stats().hosts).toBe(0);

    const persistent = { ...host, controlPersistSeconds: 3600, poolKey: `${host.poolKey}#p` };
    const r2 = pool.exec(persistent, 'x');
    await until(() => open().length === 1, 'channel');
    open()[0]!.finish(0);
    await r2;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(made[1]!.isClosed).toBe(false);
    pool.destroy();
  });

  it('prints no listener-leak warning when many operations wait at once', async () => {
    // Regression: 50 waiting execs each listened on the pool's lifetime signal and Node
    // printed MaxListenersExceededWarning, though every listener is removed when its op runs.
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const { pool, open } = setup({}, { concurrency: 1 });
      const all = Array.from({ length: 50 }, () => pool.exec(host, 'x'));
      for (let i = 0; i < 50; i++) {
        await until(() => open().length === 1, `channel ${i}`);
        open()[0]!.finish(0);
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(all);
      await new Promise((r) => setTimeout(r, 20));
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
      pool.destroy();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('keeps a ControlPersist yes (Infinity) or multi-day connection open instead of closing it at once', async () => {
    // Regression: setTimeout(fn, Infinity) and delays past 2^31-1 ms fire after 1 ms.
    const { pool, made, open } = setup({}, { persist: 30 });
    for (const [i, seconds] of [Infinity, 30 * 24 * 3600].entries()) {
      const forever = { ...host, controlPersistSeconds: seconds, poolKey: `${host.poolKey}#forever${i}` };
      const r = pool.exec(forever, 'x');
      await until(() => open().length === 1, 'channel');
      open()[0]!.finish(0);
      await r;
    }
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(made).toHaveLength(2);
    expect(made.map((c) => c.isClosed)).toEqual([false, false]);
    expect(made.map((c) => c.refed)).toEqual([false, false]);
    pool.destroy();
  });

  it('close() cancels queued work, lets running work finish, then closes connections; new work is refused', async () => {
    const { pool, made, open } = setup({}, { channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const running = pool.exec(host, 'running', { encoding: 'utf8' });
    await until(() => open().length === 1, 'running');
    const queued = pool.exec(host, 'queued').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    const qe = await queued;
    expect(qe).toBeInstanceOf(AbortedError);
    expect(qe).toMatchObject({ kind: 'aborted', code: 'SSHMUX_ERR_POOL_CLOSED' });
    await expect(pool.exec(host, 'new')).rejects.toMatchObject({ kind: 'aborted' });
    expect(made[0]!.isClosed).toBe(false);
    open()[0]!.finish(0, undefined, 'finished');
    expect((await running).stdout).toBe('finished');
    await closing;
    expect(made[0]!.closedBy).toBe('close');
  });

  it('destroy() fails running and queued work now, and is idempotent', async () => {
    const { pool, made, open } = setup({}, { channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const running = pool.exec(host, 'running').catch((e: unknown) => e);
    await until(() => open().length === 1, 'running');
    const queued = pool.exec(host, 'queued').catch((e: unknown) => e);
    pool.destroy();
    pool.destroy();
    expect(await queued).toMatchObject({ kind: 'aborted' });
    expect(await running).toMatchObject({ kind: 'aborted' });
    expect(made[0]!.closedBy).toBe('destroy');
    await pool.close();
  });

  it('an abort while queued removes the request; an abort while running kills the process and frees the slot', async () => {
    const { pool, open } = setup({}, { channelsPerConnection: 1, maxConnectionsPerHost: 1 });
    const ac = new AbortController();
    const running = pool.exec(host, 'sleep 987', { signal: ac.signal }).catch((e: unknown) => e);
    await until(() => open().length === 1, 'running');
    const ac2 = new AbortController();
    const queued = pool.exec(host, 'queued', { signal: ac2.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    ac2.abort();
    expect(await queued).toMatchObject({ kind: 'aborted' });
    expect(pool.stats().queued).toBe(0);
    const ch = open()[0]!;
    ac.abort();
    expect(await running).toMatchObject({ kind: 'aborted' });
    expect(ch.signals).toEqual(['KILL']);
    expect(pool.stats().openChannels).toBe(0);
  });

  it('a timeout kills the process and fails with kind timeout', async () => {
    const { pool, channels } = setup();
    const err = await pool.exec(host, 'sleep 987', { timeout: 30 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(channels()[0]!.signals).toEqual(['KILL']);
    expect(pool.stats().openChannels).toBe(0);
  });

  it('caps captured output at maxBuffer', async () => {
    const { pool, open } = setup();
    const r = pool.exec(host, 'yes', { maxBuffer: 4 }).catch((e: unknown) => e);
    await until(() => open().length === 1, 'running');
    open()[0]!.push('0123456789');
    expect(await r).toMatchObject({ kind: 'remote', code: 'SSHMUX_ERR_MAX_BUFFER' });
  });

  it('feeds stdin from a string and fails the command when a stdin stream breaks', async () => {
    const { pool, channels, open } = setup();
    const fed = pool.exec(host, 'cat', { stdin: 'to remote' });
    await until(() => channels().length === 1, 'channel');
    await until(() => channels()[0]!.writableFinished, 'stdin ended');
    expect(Buffer.concat(channels()[0]!.input).toString()).toBe('to remote');
    channels()[0]!.finish(0);
    await fed;

    const broken = new Readable({ read() {} });
    const failing = pool.exec(host, 'cat', { stdin: broken }).catch((e: unknown) => e);
    await until(() => open().length === 1, 'second channel');
    broken.destroy(Object.assign(new Error('disk gone'), { code: 'EIO' }));
    expect(await failing).toMatchObject({ message: expect.stringContaining('disk gone') });
    expect(channels()[1]!.signals).toEqual(['KILL']);
  });

  it('passes a lasting refusal on a connection with nothing else open to the caller after a few brief retries', async () => {
    const { pool, made } = setup({ maxSessions: 0 });
    const t0 = Date.now();
    const err = await pool.exec(host, 'x').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'channel', reason: 1 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(made).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ openChannels: 0, queued: 0 });
  });

  it('rides out a brief refusal while nothing is open (sshd frees slots just after a channel closes)', async () => {
    // Regression: a git crowd through the daemon saw 'Server refused a channel (reason 2)'
    // though the pool held no channel open; nothing had run, so the open must simply be retried.
    const { pool, made, open } = setup({ refuseNext: 2 });
    const r = pool.exec(host, 'x', { encoding: 'utf8' });
    await until(() => open().length === 1, 'channel after refusals');
    open()[0]!.finish(0, undefined, 'ok');
    expect(await r).toMatchObject({ exitCode: 0, stdout: 'ok' });
    expect(made).toHaveLength(1);
    expect(made[0]!.capacity).toBe(10);
    expect(pool.stats()).toMatchObject({ openChannels: 0, queued: 0 });
  });

  it('leases SFTP sessions on channel slots, released by close() or by the connection dying', async () => {
    const { pool, made } = setup({}, { channelsPerConnection: 2, maxConnectionsPerHost: 1 });
    const a = await pool.sftp(host);
    await using b = await pool.sftp(host);
    expect(pool.stats().openChannels).toBe(2);
    await a.close();
    await a.close();
    expect(pool.stats().openChannels).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(pool.sftp(host, { signal: ac.signal })).rejects.toMatchObject({ kind: 'aborted' });
    made[0]!.die();
    expect(pool.stats().openChannels).toBe(0);
    await b.close();
  });

  it('quotes argv and passes strings as-is', async () => {
    const { pool, channels } = setup();
    const a = pool.exec(host, ['echo', "it's", 'a b']);
    const b = pool.exec(host, 'echo $HOME | wc');
    await until(() => channels().length === 2, 'two');
    expect(channels().map((c) => c.command)).toEqual([`echo 'it'\\''s' 'a b'`, 'echo $HOME | wc']);
    for (const c of channels()) c.finish(0);
    await Promise.all([a, b]);
  });
});

describe('SshPool logging', () => {
  it('logs connect, spill, capacity learned and evict at debug with host and conn bindings, nothing per chunk', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const { pool, made, open } = setup({ maxSessions: 2 }, { logger, maxConnectionsPerHost: 2 });
    const procs = await Promise.all(Array.from({ length: 4 }, () => pool.spawn(host, 'x')));
    for (const ch of open()) {
      ch.push('chunk');
      ch.finish(0);
    }
    for (const p of procs) p.stdout.resume();
    await Promise.all(procs.map((p) => p.exited));
    made[0]!.die();
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toEqual(
      expect.arrayContaining(['connecting', 'connect', 'spill', 'capacity learned', 'evict']),
    );
    expect(lines.every((l) => l.level === 20 && l.host === 'u@h.example:22')).toBe(true);
    // Refusals of concurrent opens each lower it to what is open at that moment, ending at the server's 2.
    expect(lines.filter((l) => l.msg === 'capacity learned').at(-1)).toMatchObject({
      conn: made[0]!.id,
      capacity: 2,
    });
    expect(msgs.length).toBeLessThan(15);
    pool.destroy();
  });
});

describe('SshPool options', () => {
  it.each([
    [{ concurrency: 0 }, 'Expected `concurrency` to be a number from 1 and up, got `0` (number)'],
    [
      { maxConnectionsPerHost: 1.5 },
      'Expected `maxConnectionsPerHost` to be a number from 1 and up, got `1.5` (number)',
    ],
    [
      { channelsPerConnection: '3' },
      'Expected `channelsPerConnection` to be a number from 1 and up, got `3` (string)',
    ],
    [{ persist: -1 }, 'Expected `persist` to be a number from 0 and up, got `-1` (number)'],
    [{ resolve: 'x' }, 'Expected `resolve` to be a function, got `x` (string)'],
  ])('rejects %o', (options, message) => {
    expect(() => new SshPool(options as SshPoolOptions)).toThrow(message);
  });

  it('rejects a bad timeout or maxBuffer before opening anything', async () => {
    const { pool, made } = setup();
    await expect(pool.exec(host, 'x', { timeout: -1 })).rejects.toThrow(
      'Expected `timeout` to be a positive number of milliseconds, got `-1` (number)',
    );
    await expect(pool.exec(host, 'x', { maxBuffer: Number.NaN })).rejects.toThrow('Expected `maxBuffer`');
    await expect(pool.exec(host, 'x', { pty: { term: 'xterm\nrm -rf' } })).rejects.toThrow(
      'Expected `pty.term` to be a terminal name like xterm-256color, got "xterm\\nrm -rf"',
    );
    await expect(pool.exec(host, 'x', { pty: { rows: 0 } })).rejects.toThrow(
      'Expected `pty.rows` to be an integer from 1 to 10000, got `0`',
    );
    expect(made).toHaveLength(0);
  });

  it('freezes a fully defaulted options object', () => {
    const pool = new SshPool();
    expect(Object.isFrozen(pool.options)).toBe(true);
    expect(pool.options).toMatchObject({
      concurrency: 20,
      maxConnectionsPerHost: 4,
      channelsPerConnection: 10,
      persist: 60_000,
    });
  });
});
