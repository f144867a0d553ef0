import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { AuthError, ChannelError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { openDaemonSession } from '../../../src/mux/client-session.js';
import { type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { connectDaemon, DaemonReportedError, sendControl } from '../../../src/mux/mux-client.js';
import { type DaemonRunner, MuxDaemon } from '../../../src/mux/mux-daemon.js';
import type { OpenMessage, ProtocolError } from '../../../src/mux/protocol.js';
import type { PoolStats, RemoteProcess, RunOptions } from '../../../src/pool/types.js';
import { itPosix } from '../../helpers/posix-only.js';

/** A remote process whose stdout is produced on demand and counted. */
class FakeProcess implements RemoteProcess {
  readonly stdin = new PassThrough();
  readonly stdout: Readable;
  readonly stderr = new PassThrough();
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  produced = 0;
  killed: string | undefined;
  hungUp = false;
  resized: { rows: number; cols: number }[] = [];
  stdinText = '';
  #exit!: (v: { code: number | null; signal: string | null }) => void;

  constructor(plan: { output?: Buffer; endless?: boolean; echoStdin?: boolean }) {
    this.exited = new Promise((r) => {
      this.#exit = r;
    });
    if (plan.endless) {
      this.stdout = new Readable({
        read: () => {
          this.produced += 16_384;
          this.stdout.push(Buffer.alloc(16_384));
        },
      });
    } else {
      this.stdout = new PassThrough();
    }
    this.stdin.on('data', (d: Buffer) => {
      this.stdinText += d.toString();
    });
    this.stdin.on('end', () => {
      if (plan.endless) return;
      const out = this.stdout as PassThrough;
      if (plan.echoStdin) out.write(`got:${this.stdinText}`);
      if (plan.output) out.write(plan.output);
      out.end();
      this.stderr.end('bye\n');
      setImmediate(() => this.#exit({ code: 7, signal: null }));
    });
  }

  kill(signal = 'TERM'): void {
    this.killed = signal;
    this.stdout.destroy();
    this.stderr.destroy();
    this.#exit({ code: null, signal });
  }

  resize(size: { rows: number; cols: number }): void {
    this.resized.push(size);
  }

  hangUp(): void {
    this.hungUp = true;
    this.stdout.destroy();
    this.stderr.destroy();
    this.#exit({ code: null, signal: null });
  }
}

class FakeRunner implements DaemonRunner {
  procs: FakeProcess[] = [];
  next: ConstructorParameters<typeof FakeProcess>[0] = {};
  /** Errors the next spawns fail with, in order. */
  failures: Error[] = [];
  spawnCalls = 0;
  closed = false;
  spawnOptions: RunOptions[] = [];
  async spawn(_dest: unknown, _command: unknown, options: RunOptions = {}): Promise<RemoteProcess> {
    this.spawnCalls++;
    this.spawnOptions.push(options);
    const failure = this.failures.shift();
    if (failure) throw failure;
    const p = new FakeProcess(this.next);
    this.procs.push(p);
    return p;
  }
  async exec(): Promise<never> {
    throw new Error('not used');
  }
  async sftp(): Promise<never> {
    throw new Error('not used');
  }
  stats(): PoolStats {
    return {
      hosts: 1,
      connections: 2,
      openChannels: 0,
      queued: 0,
      perHost: [{ destination: 'u@h:22', connections: 2, openChannels: 0, capacities: [10, 10] }],
    };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  destroy(): void {
    this.closed = true;
  }
}

function collector(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      chunks.push(chunk);
      cb();
    },
  }) as Writable & { text(): string };
  w.text = () => Buffer.concat(chunks).toString();
  return w;
}

const open: OpenMessage = {
  host: { ...plainHostConfig({ host: 'h', user: 'u', port: 22 }) },
  command: 'cmd',
  env: {},
  pty: false,
  cwd: '/',
};

describe('MuxDaemon with a fake pool', () => {
  let dir: string;
  let daemon: MuxDaemon | undefined;

  afterEach(async () => {
    await daemon?.shutdown('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    runner: FakeRunner,
    persistMs = 60_000,
    helloTimeoutMs = 10_000,
  ): Promise<MuxEndpoint> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-mux-unit-'));
    const env = {
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: path.join(dir, 'rt') },
      uid: process.getuid?.() ?? -1,
      username: 'me',
      tmpdir: dir,
      homedir: dir,
    };
    const endpoint = selectEndpoint(env);
    prepareEndpoint(endpoint, env);
    daemon = new MuxDaemon({
      endpoint,
      runner,
      version: '9.9.9',
      logger: silentLogger(),
      persistMs,
      helloTimeoutMs,
    });
    expect(await daemon.start()).toBe('listening');
    return endpoint;
  }

  it('runs a session: stdin to the remote, stdout/stderr back, then the exit status', async () => {
    const runner = new FakeRunner();
    runner.next = { echoStdin: true };
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const out = collector();
    const err = collector();
    const s = await openDaemonSession(conn, open, {
      stdin: Readable.from(['ab', 'c']),
      stdout: out,
      stderr: err,
    });
    expect(await s.exited).toEqual({ code: 7, signal: null });
    expect(out.text()).toBe('got:abc');
    expect(err.text()).toBe('bye\n');
  });

  it('waitAfterAuth: authenticates, waits for the client (LocalCommand), then starts the command', async () => {
    const runner = new FakeRunner() as FakeRunner & { check(): Promise<void> };
    const order: string[] = [];
    runner.check = async () => {
      order.push('check');
    };
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const io = { stdin: Readable.from(['x']), stdout: collector(), stderr: collector() };
    const s = await openDaemonSession(conn, { ...open, waitAfterAuth: true }, io, async () => {
      order.push(`local (spawned ${runner.spawnCalls})`);
    });
    expect(await s.exited).toEqual({ code: 7, signal: null });
    expect(order).toEqual(['check', 'local (spawned 0)']);
    expect(runner.spawnCalls).toBe(1);
  });

  it('does not read ahead of a client that stops reading (bounded by the window)', async () => {
    const runner = new FakeRunner();
    runner.next = { endless: true };
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const stalled = new Writable({ highWaterMark: 1, write() {} });
    const s = await openDaemonSession(conn, open, { stdin: null, stdout: stalled, stderr: collector() });
    await new Promise((r) => setTimeout(r, 400));
    const proc = runner.procs[0]!;
    // 1 MiB window plus stream buffers; without flow control this would be hundreds of MB.
    expect(proc.produced).toBeGreaterThan(500_000);
    expect(proc.produced).toBeLessThan(2_000_000);
    const before = proc.produced;
    await new Promise((r) => setTimeout(r, 200));
    expect(proc.produced).toBe(before);
    s.signal('TERM');
    await s.exited.catch(() => undefined);
    expect(proc.killed).toBe('TERM');
  });

  it('opens the session kind the client asked for and passes window changes to it', async () => {
    const runner = new FakeRunner();
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const s = await openDaemonSession(
      conn,
      { ...open, kind: 'shell', command: '', pty: { term: 'xterm', rows: 24, cols: 80 } },
      { stdin: new PassThrough(), stdout: collector(), stderr: collector() },
    );
    s.resize({ rows: 50, cols: 132 });
    s.resize({ rows: 0, cols: 10 });
    s.resize({ rows: 51, cols: 133 });
    for (let i = 0; i < 50 && (runner.procs[0]?.resized.length ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(runner.spawnOptions[0]).toMatchObject({
      kind: 'shell',
      pty: { term: 'xterm', rows: 24, cols: 80 },
    });
    // A size of zero is not a terminal size: the daemon drops it rather than passing it on.
    expect(runner.procs[0]!.resized).toEqual([
      { rows: 50, cols: 132 },
      { rows: 51, cols: 133 },
    ]);
    s.close();
    await expect(s.exited).rejects.toThrow(/lost the connection/);
  });

  it('refuses a session kind it does not know, with a clear error', async () => {
    const runner = new FakeRunner();
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const err = await openDaemonSession(
      conn,
      { ...open, kind: 'x11' as never },
      {
        stdin: null,
        stdout: collector(),
        stderr: collector(),
      },
    ).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/unknown session kind "x11"/);
    expect(runner.spawnCalls).toBe(0);
  });

  it('hangs up on the remote command, with no signal, when the client goes away mid-session', async () => {
    const runner = new FakeRunner();
    const endpoint = await start(runner);
    const conn = await connectDaemon(endpoint, '9.9.9');
    const s = await openDaemonSession(conn, open, {
      stdin: new PassThrough(),
      stdout: collector(),
      stderr: collector(),
    });
    conn.conn.destroy();
    await s.exited.catch(() => undefined);
    for (let i = 0; i < 50 && !runner.procs[0]?.hungUp; i++) await new Promise((r) => setTimeout(r, 10));
    // As an OpenSSH master does when a mux client dies: the channel closes, no signal is sent.
    expect(runner.procs[0]!.hungUp).toBe(true);
    expect(runner.procs[0]!.killed).toBeUndefined();
  });

  it('refuses a client of another version with a clear error', async () => {
    const endpoint = await start(new FakeRunner());
    // Said by the client once the daemon proved who it is, so the advice can be trusted.
    const err = await connectDaemon(endpoint, '1.0.0').catch((e: unknown) => e);
    expect((err as ProtocolError).code).toBe('SSHMUX_ERR_MUX_VERSION');
    expect((err as Error).message).toMatch(
      /daemon \(pid \d+\) is sshmux 9\.9\.9.*this client is sshmux 1\.0\.0/,
    );
  });

  itPosix('a Unix-socket endpoint (Windows says "no daemon listens here" once the pipe record is gone)')(
    'answers -O check with its pid and the connections to a destination, and -O exit stops it',
    async () => {
      const runner = new FakeRunner();
      const endpoint = await start(runner);
      const check = await sendControl(await connectDaemon(endpoint, '9.9.9'), {
        op: 'check',
        destination: 'u@h:22',
      });
      expect(check).toMatchObject({ pid: process.pid, connections: 2, sessions: 0, accepting: true });
      await sendControl(await connectDaemon(endpoint, '9.9.9'), { op: 'exit' });
      await daemon!.done;
      expect(runner.closed).toBe(true);
      await expect(connectDaemon(endpoint, '9.9.9')).rejects.toThrow(/no sshmux daemon answers/);
    },
  );

  it('of many daemons started at once on one endpoint, exactly one listens', async () => {
    const endpoint = await start(new FakeRunner());
    await daemon!.shutdown('make room');
    const crowd = Array.from(
      { length: 8 },
      () => new MuxDaemon({ endpoint, runner: new FakeRunner(), version: '9.9.9', logger: silentLogger() }),
    );
    const results = await Promise.all(crowd.map((d) => d.start()));
    expect(results.filter((r) => r === 'listening')).toHaveLength(1);
    daemon = crowd[results.indexOf('listening')];
    expect((await connectDaemon(endpoint, '9.9.9')).pid).toBe(process.pid);
  });

  it('a second daemon on the same endpoint finds the first and leaves', async () => {
    const endpoint = await start(new FakeRunner());
    const second = new MuxDaemon({
      endpoint,
      runner: new FakeRunner(),
      version: '9.9.9',
      logger: silentLogger(),
    });
    expect(await second.start()).toBe('already-running');
  });

  it('exits by itself after the persist time without sessions', async () => {
    const runner = new FakeRunner();
    await start(runner, 100);
    await daemon!.done;
    expect(runner.closed).toBe(true);
  });

  itPosix('a Unix-socket endpoint (on Windows the daemon listens on its recorded per-daemon pipe name)')(
    'drops a connection that never says hello, so it cannot keep the daemon alive',
    async () => {
      const runner = new FakeRunner();
      const endpoint = await start(runner, 100, 150);
      const silent = net.connect(endpoint.socketPath);
      const closed = new Promise((resolve) => silent.on('close', resolve));
      await closed;
      await daemon!.done;
      expect(runner.closed).toBe(true);
    },
  );

  it('reports spawn errors to the client at once with their kind (the pool already retried refusals)', async () => {
    const runner = new FakeRunner();
    runner.failures = [new ChannelError('refused', { reason: 2 })];
    const endpoint = await start(runner);
    const refused = await openDaemonSession(await connectDaemon(endpoint, '9.9.9'), open, {
      stdin: null,
      stdout: collector(),
      stderr: collector(),
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DaemonReportedError);
    expect((refused as DaemonReportedError).remote).toMatchObject({ kind: 'channel' });
    expect(runner.spawnCalls).toBe(1);

    runner.failures = [new AuthError('no key accepted')];
    const err = await openDaemonSession(await connectDaemon(endpoint, '9.9.9'), open, {
      stdin: null,
      stdout: collector(),
      stderr: collector(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonReportedError);
    expect((err as DaemonReportedError).remote).toEqual({
      kind: 'auth',
      code: 'SSHMUX_ERR_AUTH',
      message: 'no key accepted',
    });
    expect(runner.spawnCalls).toBe(2);
  });
});
