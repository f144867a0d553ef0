import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHostConfig } from '../../src/config/resolve.js';
import type { SshPool } from '../../src/pool/ssh-pool.js';
import { CLI, runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { startJumpTopology } from './jump-topology.js';

/**
 * execMany and `sshmux run` on 50 destinations: 50 aliases of one sshd left at OpenSSH's default
 * MaxStartups (10:30:100), each its own connection (a ServerAliveInterval of its own gives each a
 * pool key of its own, as 50 real hosts have). Nothing may be refused, and the server must see no
 * more unauthenticated connections at once than the bound. host03 logs in as root, the others as
 * backup: that is how a command tells one host from the others.
 */
const N = 50;
const aliases = Array.from({ length: N }, (_, i) => `host${String(i + 1).padStart(2, '0')}`);
/** The login and the client's address and port as the server saw them: one port per connection. */
const WHO = ['sh', '-c', 'echo "$(id -un) $SSH_CONNECTION"'];
const userOf = (a: string): string => (a === 'host03' ? 'root' : 'backup');

let sshd: StartedSshd;
let config: string;
let jumpPort: number;
let innerPort: number;

function pool(): SshPool {
  return sshd.pool({ resolve: (d) => resolveHostConfig(d, { configFile: config }) });
}

/** Most connections sshd had accepted but not yet authenticated at once, in its log's order. */
function peakUnauthenticated(log: string): number {
  const pending = new Set<string>();
  let peak = 0;
  for (const line of log.split('\n')) {
    const from = /Connection from \S+ port (\d+) on/.exec(line);
    const done =
      /(?:Accepted \S+ for \S+ from|Connection closed by|Disconnected from|Connection reset by).*? port (\d+)/.exec(
        line,
      );
    if (from?.[1]) pending.add(from[1]);
    else if (done?.[1]) pending.delete(done[1]);
    peak = Math.max(peak, pending.size);
  }
  // Parsing found the connections at all (a changed log format must fail here, not pass).
  expect(peak).toBeGreaterThanOrEqual(1);
  return peak;
}

async function assertNothingRefused(): Promise<void> {
  const log = await sshd.sshdLog();
  expect(log).not.toMatch(/drop connection|beginning MaxStartups throttling|exceeded MaxStartups/);
}

beforeAll(async () => {
  sshd = await startSshd(); // the harness passes MaxStartups=10:30:100: OpenSSH's default
  ({ jumpPort, innerPort } = await startJumpTopology(sshd));
  const known = path.join(sshd.tmpDir, 'known_hosts_all');
  writeFileSync(
    known,
    [sshd.port, jumpPort, innerPort]
      .flatMap((p) => sshd.hostKeys.map((k) => `[127.0.0.1]:${p} ${k}\n`))
      .join(''),
  );
  config = path.join(sshd.tmpDir, 'ssh_config.many');
  writeFileSync(
    config,
    [
      ...aliases.flatMap((a, i) => [`Host ${a}`, `  Port ${sshd.port}`, `  ServerAliveInterval ${30 + i}`]),
      'Host host03',
      '  User root',
      'Host jump',
      `  Port ${jumpPort}`,
      'Host inner-root inner-backup',
      `  Port ${innerPort}`,
      '  ProxyJump jump',
      'Host inner-root',
      '  User root',
      'Host *',
      '  HostName 127.0.0.1',
      '  User backup',
      `  IdentityFile ${sshd.keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${known}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sshd?.stop();
});

describe('execMany on 50 destinations (library)', () => {
  it('succeeds on all 50, one login each, bounded handshakes, nothing refused by MaxStartups', async () => {
    const before = await sshd.countLogins();
    const p = pool();
    try {
      const run = p.execMany(aliases, WHO, { encoding: 'utf8' });
      const order: string[] = [];
      for await (const r of run) order.push(r.host);
      const s = await run.summary();
      expect(s.results.filter((r) => r.status !== 'ok').map((r) => `${r.host}: ${r.error?.message}`)).toEqual(
        [],
      );
      expect([s.total, s.ok]).toEqual([N, N]);
      expect(s.results.map((r) => r.stdout.split(' ')[0])).toEqual(aliases.map(userOf));
      // 50 client addresses: 50 connections.
      expect(new Set(s.results.map((r) => r.stdout)).size).toBe(N);
      expect(order.sort()).toEqual(aliases);
      expect(s.peakConnecting).toBeLessThanOrEqual(8);
      expect(p.stats().connections).toBe(N);
    } finally {
      await p.close();
    }
    expect((await sshd.countLogins()) - before).toBe(N);
    await assertNothingRefused();
    expect(peakUnauthenticated(await sshd.sshdLog())).toBeLessThanOrEqual(8);
  });

  it('honours concurrency: never more commands running at once than asked', async () => {
    const p = pool();
    const file = `/tmp/overlap-${process.pid}`;
    try {
      const s = await p
        // All backup logins: the marks file is theirs.
        .execMany(
          aliases.filter((a) => a !== 'host03').slice(0, 12),
          ['sh', '-c', `echo + >> ${file}; sleep 0.3; echo - >> ${file}`],
          {
            concurrency: 3,
          },
        )
        .summary();
      expect(s.ok).toBe(12);
    } finally {
      await p.close();
    }
    // The marks as the server wrote them: the running count never passes 3 (and does reach past 1).
    let running = 0;
    let peak = 0;
    for (const mark of (await sshd.sh(`cat ${file}; rm -f ${file}`)).split('\n')) {
      running += mark === '+' ? 1 : mark === '-' ? -1 : 0;
      peak = Math.max(peak, running);
    }
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it('abort kills the running commands and reports every unfinished host as aborted', async () => {
    const p = pool();
    const ac = new AbortController();
    const script = 'if [ "$(id -un)" = root ]; then echo quick; else exec sleep 37; fi';
    try {
      const run = p.execMany(aliases.slice(0, 10), ['sh', '-c', script], {
        signal: ac.signal,
        concurrency: 4,
      });
      for await (const r of run) {
        if (r.host === 'host03') {
          // Wait until the other three running hosts are in their sleep, then abort.
          for (let i = 0; i < 100 && (await sshd.processes('sleep 37')).length < 3; i++) await sleep(50);
          ac.abort();
        }
      }
      const s = await run.summary();
      expect(s.results.map((r) => r.status)).toEqual(
        aliases.slice(0, 10).map((a) => (a === 'host03' ? 'ok' : 'aborted')),
      );
      expect(s.results[0]?.error?.kind).toBe('aborted');
    } finally {
      await p.close();
    }
    for (let i = 0; i < 100 && (await sshd.processes('sleep 37')).length > 0; i++) await sleep(50);
    expect(await sshd.processes('sleep 37')).toEqual([]);
  });

  it('hosts behind one ProxyJump share the jump connection: one jump login', async () => {
    const jumpLogins = async (): Promise<number> =>
      Number(
        (await sshd.exec(['grep', '-c', 'Accepted publickey', '/var/log/sshd-jump.log'])).stdout.trim() || 0,
      );
    const before = await jumpLogins();
    const p = pool();
    try {
      const s = await p
        .execMany(['inner-root', 'inner-backup'], ['id', '-un'], { encoding: 'utf8' })
        .summary();
      expect(s.results.map((r) => [r.status, r.stdout])).toEqual([
        ['ok', 'root\n'],
        ['ok', 'backup\n'],
      ]);
      expect(p.stats().connections).toBe(2);
    } finally {
      await p.close();
    }
    expect((await jumpLogins()) - before).toBe(1);
  });
});

describe('sshmux run (CLI)', () => {
  const hostFlags = (hosts: string[]): string[] => hosts.flatMap((h) => ['-H', h]);

  it('runs on 50 hosts: host-prefixed lines, a summary table on stderr, exit 0, nothing refused', async () => {
    const hostsFile = path.join(sshd.tmpDir, 'hosts');
    writeFileSync(hostsFile, `# the second half\n${aliases.slice(25).join('\n')}\n`);
    const r = await runCli([
      'run',
      '-F',
      config,
      ...hostFlags(aliases.slice(0, 25)),
      '--hosts-file',
      hostsFile,
      '--',
      'sh',
      '-c',
      'echo "out $(id -un)"; echo "err $1" >&2',
      'sh',
      'it is one argument',
    ]);
    expect(r.stderr).toContain(`${N} hosts: ${N} ok, 0 failed, 0 errors, 0 aborted`);
    expect(r.code).toBe(0);
    const lines = r.stdout.toString().trim().split('\n').sort();
    expect(lines).toEqual(aliases.map((a) => `${a}: out ${userOf(a)}`));
    for (const a of aliases) expect(r.stderr).toContain(`${a}: err it is one argument\n`);
    expect(r.stderr).toMatch(/^HOST +STATUS +EXIT +TIME/m);
    await assertNothingRefused();
    expect(peakUnauthenticated(await sshd.sshdLog())).toBeLessThanOrEqual(8);
  });

  const failing = ['sh', '-c', '[ "$(id -un)" = root ] && { echo broken >&2; exit 7; }; echo "ok $(id -un)"'];

  it('one failing host: exit 1, the others output intact, the table says which', async () => {
    const r = await runCli(['run', '-F', config, ...hostFlags(aliases.slice(0, 5)), '--', ...failing]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString().trim().split('\n').sort()).toEqual(
      ['host01', 'host02', 'host04', 'host05'].map((a) => `${a}: ok backup`),
    );
    expect(r.stderr).toContain('host03: broken\n');
    expect(r.stderr).toMatch(/^host03 +failed +7 /m);
    expect(r.stderr).toContain('5 hosts: 4 ok, 1 failed, 0 errors, 0 aborted');
  });

  it('--json: one object per host, then the summary; an unreachable host is an error', async () => {
    const r = await runCli([
      'run',
      '-F',
      config,
      '--json',
      ...hostFlags([...aliases.slice(0, 4), 'nosuch.invalid']),
      '--',
      ...failing,
    ]);
    expect(r.code).toBe(1);
    const objects = r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = objects.pop();
    expect(last).toMatchObject({ summary: { total: 5, ok: 3, failed: 1, errors: 1, aborted: 0 } });
    const byHost = Object.fromEntries(objects.map((o) => [o.host, o]));
    expect(byHost.host01).toMatchObject({ status: 'ok', exitCode: 0, stdout: 'ok backup\n', error: null });
    expect(byHost.host03).toMatchObject({ status: 'failed', exitCode: 7, stderr: 'broken\n' });
    expect(byHost['nosuch.invalid']).toMatchObject({ status: 'error', exitCode: null });
    expect(byHost['nosuch.invalid'].error.kind).toBe('network');
  });

  it('--group: each host whole under its header', async () => {
    const r = await runCli([
      'run',
      '-F',
      config,
      '--group',
      ...hostFlags(aliases.slice(0, 3)),
      '--',
      'sh',
      '-c',
      'echo a; echo b',
    ]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    for (const a of aliases.slice(0, 3))
      expect(out).toMatch(new RegExp(`=== ${a} \\(exit 0, [\\d.]+s\\) ===\\na\\nb\\n`));
  });

  it('Ctrl-C ends the run: running hosts killed, every unfinished host reported aborted, exit 1', async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '-F',
        config,
        ...hostFlags(['host01', 'host02', 'host04']),
        '--',
        'sh',
        '-c',
        'echo started; exec sleep 38',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('started').length === 4) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(err).toContain('3 hosts: 0 ok, 0 failed, 0 errors, 3 aborted');
    expect(code).toBe(1);
    for (let i = 0; i < 100 && (await sshd.processes('sleep 38')).length > 0; i++) await sleep(50);
    expect(await sshd.processes('sleep 38')).toEqual([]);
  });

  it('refuses what it cannot do, with exit 2', async () => {
    const none = await runCli(['run', '-F', config, '--', 'true']);
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('no hosts')]);
    const both = await runCli(['run', '-F', config, '--json', '--group', '-H', 'host01', '--', 'true']);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--json and --group')]);
  });
});
