import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, NetworkError } from '../../../src/errors.js';
import { ConnectGate } from '../../../src/pool/connect-gate.js';
import { ExecManyRun, type ManyRunner } from '../../../src/pool/exec-many.js';
import type { ChannelProcess } from '../../../src/pool/remote-process.js';

/** A fake runner: each host connects after `connectMs`, then prints its name and exits `exits[host]`. */
function fakeRunner(opts: { connectMs?: number; exits?: Record<string, number>; refuse?: string[] } = {}) {
  let connecting = 0;
  let peak = 0;
  const commands: string[] = [];
  const runner: ManyRunner = {
    async check(dest, signal) {
      connecting++;
      peak = Math.max(peak, connecting);
      try {
        await new Promise((r) => setTimeout(r, opts.connectMs ?? 5));
        if (signal?.aborted) throw signal.reason;
        if (opts.refuse?.includes(String(dest)))
          throw new NetworkError('refused', { destination: String(dest) });
      } finally {
        connecting--;
      }
    },
    async spawn(dest, command, options) {
      commands.push(command);
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const code = opts.exits?.[String(dest)] ?? 0;
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
        const t = setTimeout(() => {
          stdout.end(`${String(dest)}\n`);
          stderr.end();
          resolve({ code, signal: null });
        }, 5);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          stdout.end();
          stderr.end();
          reject(options.signal?.reason);
        });
      });
      const process = { stdout, stderr, exited, command, fail: () => {} } as unknown as ChannelProcess;
      return { process, destination: String(dest) };
    },
  };
  return { runner, peak: () => peak, commands };
}

const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `h${i}`);

describe('ConnectGate', () => {
  it('never lets more than `limit` attempts run at once, and hands slots over in order', async () => {
    const gate = new ConnectGate(3, 0);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate.run(undefined, async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 2));
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(gate.peak).toBe(3);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('an aborted waiter leaves the line and rejects with the reason', async () => {
    const gate = new ConnectGate(1, 0);
    const ac = new AbortController();
    const first = gate.run(undefined, () => new Promise((r) => setTimeout(r, 20)));
    const second = gate.run(ac.signal, async () => 'ran');
    ac.abort(new Error('stop'));
    await expect(second).rejects.toThrow('stop');
    await first;
    await expect(gate.run(undefined, async () => 'next')).resolves.toBe('next');
  });
});

describe('ExecManyRun (fake runner)', () => {
  it('yields every host as it ends and sums them up; a failing and an unreachable host are results', async () => {
    const fake = fakeRunner({ exits: { h1: 3 }, refuse: ['h2'] });
    const run = new ExecManyRun(
      hosts(6),
      ['echo', 'a b'],
      { encoding: 'utf8', connectConcurrency: 2 },
      fake.runner,
    );
    const seen: string[] = [];
    for await (const r of run) seen.push(r.host);
    const s = await run.summary();
    expect(seen.sort()).toEqual(hosts(6).sort());
    expect([s.total, s.ok, s.failed, s.errors, s.aborted]).toEqual([6, 4, 1, 1, 0]);
    expect(s.results.map((r) => r.host)).toEqual(hosts(6));
    expect(s.results[1]).toMatchObject({ status: 'failed', exitCode: 3, stdout: 'h1\n' });
    expect(s.results[2]?.error?.kind).toBe('network');
    expect(fake.peak()).toBeLessThanOrEqual(2);
    expect(s.peakConnecting).toBe(2);
    expect(new Set(fake.commands)).toEqual(new Set(["echo 'a b'"]));
  });

  it('abort reports the hosts not finished as aborted', async () => {
    const fake = fakeRunner({ connectMs: 20 });
    const ac = new AbortController();
    const run = new ExecManyRun(
      hosts(30),
      'true',
      { signal: ac.signal, concurrency: 2, connectConcurrency: 2 },
      fake.runner,
    );
    for await (const r of run) {
      // Abort once the first host is done: the rest are running or waiting for their turn.
      if (r.status === 'ok') ac.abort();
    }
    const s = await run.summary();
    expect(s.ok).toBeGreaterThan(0);
    expect(s.aborted).toBeGreaterThanOrEqual(27);
    expect(s.ok + s.aborted).toBe(30);
    expect(s.results.find((r) => r.status === 'aborted')?.error?.kind).toBe('aborted');
  });

  it('refuses options it cannot honour, by name', () => {
    const { runner } = fakeRunner();
    expect(() => new ExecManyRun(['h'], 'true', { check: true } as never, runner)).toThrow(/`check`/);
    expect(() => new ExecManyRun(['h'], 'true', { stdin: new PassThrough() } as never, runner)).toThrow(
      /`stdin`/,
    );
    expect(() => new ExecManyRun(['h'], 'true', { connectConcurrency: 0 }, runner)).toThrow(ConfigError);
    expect(() => new ExecManyRun(['h'], 'true', { connectStagger: -1 }, runner)).toThrow(/connectStagger/);
    expect(() => new ExecManyRun('h' as never, 'true', {}, runner)).toThrow(/`hosts`/);
  });
});
