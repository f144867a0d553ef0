/**
 * `npx tsx bench/profile.ts [git|btrfs|manifest]`: the diagnostics behind bench/README.md's
 * "what limits it" notes — what a scenario does besides the measured work. Not part of
 * `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ssh2 from 'ssh2';
import { buildSshdImage } from '../test/helpers/build-image.js';
import { type StartedSshd, startSshd } from '../test/helpers/sshd.js';
import { zeroStream } from './lib/data.js';
import { OpenSsh, USER } from './lib/openssh.js';
import { run, shOk } from './lib/proc.js';
import { benchHostConfig, loadSshmux, type PoolLike } from './lib/sshmux.js';
import { SshmuxCli } from './lib/sshmux-cli.js';
import { MiB } from './lib/stats.js';
import { makeTree } from './lib/tree.js';

const what = new Set(process.argv.slice(2));
const all = what.size === 0;
const cipher = 'aes128-gcm@openssh.com';

/** A pool whose exec/spawn calls are logged with their durations. */
function tracing(pool: PoolLike, log: string[]): PoolLike {
  const t0 = performance.now();
  const stamp = () => `${(performance.now() - t0).toFixed(0).padStart(6)} ms`;
  return new Proxy(pool, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'exec' && prop !== 'spawn') return typeof v === 'function' ? v.bind(target) : v;
      return async (dest: unknown, command: unknown, options: unknown) => {
        const started = performance.now();
        const cmd = Array.isArray(command) ? command.join(' ') : String(command);
        const r = await (v as (...a: unknown[]) => Promise<unknown>).call(target, dest, command, options);
        log.push(
          `${stamp()} ${String(prop)} (${(performance.now() - started).toFixed(0)} ms to return) ${cmd.slice(0, 140)}`,
        );
        return r;
      };
    },
  });
}

/** Stream `bytes` into `cat` through a bare ssh2 Client (no sshmux), for comparison. */
async function rawSsh2Stream(server: StartedSshd, c: string, bytes: number): Promise<string> {
  const client = new ssh2.Client();
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({
        host: server.host,
        port: server.port,
        username: USER,
        privateKey: readFileSync(server.keyPath),
        algorithms: { cipher: [c as ssh2.CipherAlgorithm] },
      });
    });
    const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
      client.exec('cat >/dev/null', (err, ch) => (err ? reject(err) : resolve(ch))),
    );
    channel.resume();
    channel.stderr.resume();
    const exited = new Promise<number | null>((resolve) =>
      channel.once('exit', (code: number | null) => resolve(code)),
    );
    await pipeline(zeroStream(bytes), channel);
    return `exit ${await exited} after ${(performance.now() - t0).toFixed(0)} ms`;
  } catch (err) {
    return `FAILED after ${(performance.now() - t0).toFixed(0)} ms: ${(err as Error).message}`;
  } finally {
    client.end();
  }
}

await buildSshdImage();
const sshmux = await loadSshmux();
if (sshmux.unavailable) throw new Error(sshmux.unavailable);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sshmux-profile-'));
await using sshd = await startSshd({ btrfs: all || what.has('btrfs'), btrfsSize: '2G' });
const openssh = new OpenSsh(sshd, tmp);
const host = benchHostConfig(sshmux.mod, sshd, cipher);
try {
  if (all || what.has('git')) {
    await sshd.sh(`git init -q --bare /home/${USER}/p.git`, USER);
    const cli = new SshmuxCli(openssh, tmp, 'rt-prof');
    const url = `ssh://${USER}@${sshd.host}:${sshd.port}/home/${USER}/p.git`;
    for (const [label, env] of [
      ['sshmux', { ...cli.env, GIT_SSH_COMMAND: cli.commandLine(cipher) }],
      ['ssh', { ...process.env, GIT_SSH_COMMAND: openssh.commandLine(cipher) }],
    ] as const) {
      for (let i = 0; i < 2; i++) {
        const r = await run('git', ['ls-remote', url], { env: { ...env, GIT_TRACE: '1' } });
        const runs = r.stderr.split('\n').filter((l) => l.includes('run_command'));
        console.log(`git ls-remote via ${label} #${i + 1}: ${r.ms.toFixed(0)} ms, exit ${r.code}`);
        for (const l of runs) console.log(`    ${l.replace(/^.*run_command: /, '').slice(0, 200)}`);
      }
    }
    for (let i = 0; i < 3; i++) {
      const a = await run(process.execPath, [cli.argv(cipher, ['true'])[0]!, '--version']);
      const b = await cli.exec(cipher, ['true']);
      const c = await run(process.execPath, ['-e', '0']);
      console.log(
        `node -e 0: ${c.ms.toFixed(0)} ms; sshmux --version: ${a.ms.toFixed(0)} ms; sshmux ssh host true (warm daemon): ${b.ms.toFixed(0)} ms`,
      );
    }
    await cli.stop();
  }
  if (all || what.has('btrfs')) {
    const src = sshd.btrfs!.source;
    await shOk(
      `btrfs -q subvolume create ${src}/d && head -c ${64 * MiB} /dev/urandom > ${src}/d/f && btrfs -q subvolume snapshot -r ${src}/d ${src}/s && sync`,
    );
    await sshd.sh('mkdir -p /mnt/btrfs/recv');
    const log: string[] = [];
    const pool = new sshmux.mod.SshPool!({ resolve: () => host });
    try {
      const t0 = performance.now();
      await sshmux.mod.sendSnapshot!(tracing(pool, log), {
        source: `${src}/s`,
        target: 'b:/mnt/btrfs/recv',
        parent: null,
      });
      console.log(`sendSnapshot of 64 MiB: ${(performance.now() - t0).toFixed(0)} ms; remote calls:`);
      for (const l of log) console.log(`    ${l}`);
    } finally {
      await pool.close();
    }
    await sshd.sh('btrfs -q subvolume delete -c /mnt/btrfs/recv/s');
    const r = await run('bash', [
      '-c',
      `btrfs send -q ${src}/s | ${openssh.commandLine(cipher)} ${openssh.target} 'sudo -n btrfs receive /mnt/btrfs/recv'`,
    ]);
    console.log(`btrfs send | ssh receive of 64 MiB: ${r.ms.toFixed(0)} ms`);
  }
  if (all || what.has('manifest')) {
    const dir = path.join(tmp, 'tree');
    const bytes = makeTree(dir, 1000, 128 * MiB);
    await run('bash', ['-c', `cd ${dir} && find . -type f -print0 | xargs -0 sha256sum > /dev/null`]);
    for (const concurrency of [1, 2, 8]) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await sshmux.mod.localManifest!(dir, { concurrency });
      const cpu = process.cpuUsage(cpu0);
      const ms = performance.now() - t0;
      console.log(
        `localManifest concurrency ${concurrency}: ${ms.toFixed(0)} ms (${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s), CPU user ${(cpu.user / 1e3).toFixed(0)} ms sys ${(cpu.system / 1e3).toFixed(0)} ms`,
      );
    }
    const g = await run('bash', [
      '-c',
      `cd ${dir} && /usr/bin/time -f 'CPU %U %S' sh -c 'find . -type f -print0 | xargs -0 sha256sum > /dev/null'`,
    ]);
    console.log(`find | xargs sha256sum: ${g.ms.toFixed(0)} ms, ${g.stderr.trim()}`);
  }
  if (all || what.has('rss')) {
    // Is the streaming RSS growth V8's heap sizing or something kept? Same child, other heap flags.
    const child = path.join(import.meta.dirname, 'children/stream.mjs');
    const args = JSON.stringify({
      dist: path.join(import.meta.dirname, '../dist/index.js'),
      host: sshd.host,
      port: sshd.port,
      user: USER,
      key: sshd.keyPath,
      knownHosts: sshd.knownHostsFile,
      cipher,
      bytes: 1024 * MiB,
    });
    const variants: [string, string[], NodeJS.ProcessEnv][] = [
      ['defaults', [], {}],
      ['--max-semi-space-size=2', ['--max-semi-space-size=2'], {}],
      ['MALLOC_ARENA_MAX=1', [], { MALLOC_ARENA_MAX: '1' }],
    ];
    for (const [label, flags, env] of variants) {
      const r = await run('/usr/bin/time', ['-f', 'maxrss %M KB', process.execPath, ...flags, child, args], {
        env: { ...process.env, ...env, BENCH_MEMORY: '1' },
      });
      console.log(
        `stream 1 GiB, node ${label}: ${r.ms.toFixed(0)} ms, ${r.stderr.trim().split('\n').join('; ')}`,
      );
    }
    const idle = await run('/usr/bin/time', [
      '-f',
      'maxrss %M KB',
      process.execPath,
      '-e',
      `import(${JSON.stringify(path.join(import.meta.dirname, '../dist/index.js'))})`,
    ]);
    console.log(`node importing dist only: ${idle.stderr.trim()}`);
  }
  if (all || what.has('burst')) {
    // The global concurrency default (20) against what one host may hold (4 connections × 10 channels).
    for (const options of [{}, { concurrency: 40 }]) {
      const pool = new sshmux.mod.SshPool!(options);
      try {
        const before = await sshd.countLogins(USER);
        const t0 = performance.now();
        const settled = await Promise.allSettled(
          Array.from({ length: 200 }, () => pool.exec(host, 'sleep 0.2')),
        );
        const ms = performance.now() - t0;
        const ok = settled.filter((r) => r.status === 'fulfilled' && r.value.exitCode === 0).length;
        console.log(
          `burst 200 × sleep 0.2, SshPool(${JSON.stringify(options)}): ${ms.toFixed(0)} ms, ${ok}/200 ok, ${(await sshd.countLogins(USER)) - before} logins`,
        );
      } finally {
        await pool.close();
      }
    }
  }
  if (all || what.has('rekey')) {
    // Does a stream survive the server re-keying mid-transfer? A second sshd that rekeys every 64 MiB.
    await using rekeying = await startSshd({ sshdOptions: ['RekeyLimit=64M'] });
    for (const c of ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com']) {
      const h = benchHostConfig(sshmux.mod, rekeying, c);
      const pool = new sshmux.mod.SshPool!();
      const t0 = performance.now();
      try {
        const proc = await pool.spawn(h, 'cat >/dev/null');
        proc.stdout.resume();
        proc.stderr.resume();
        await pipeline(zeroStream(256 * MiB), proc.stdin);
        const exit = await proc.exited;
        console.log(
          `256 MiB through a server with RekeyLimit=64M, ${c}: exit ${exit.code} after ${(performance.now() - t0).toFixed(0)} ms`,
        );
      } catch (err) {
        console.log(
          `256 MiB through a server with RekeyLimit=64M, ${c}: FAILED after ${(performance.now() - t0).toFixed(0)} ms: ${(err as Error).message}`,
        );
      } finally {
        await pool.close();
      }
      // The same with a bare ssh2 Client: is it sshmux or ssh2?
      const raw = await rawSsh2Stream(rekeying, c, 256 * MiB);
      console.log(`  the same through a bare ssh2 Client: ${raw}`);
      const o = new OpenSsh(rekeying, tmp);
      const r = await run('bash', [
        '-c',
        `head -c ${256 * MiB} /dev/zero | ${o.commandLine(c)} ${o.target} 'cat >/dev/null'`,
      ]);
      console.log(`  the same through ssh: exit ${r.code} after ${r.ms.toFixed(0)} ms`);
    }
  }
  if (all || what.has('chunks')) {
    // Does the size of the writes into a channel matter? The same 512 MiB from memory in
    // 256 KiB and 64 KiB chunks, and from a child process's stdout pipe (as sendSnapshot reads btrfs send).
    const bytes = 512 * MiB;
    const sources: [string, () => Readable][] = [
      ['memory, 256 KiB chunks', () => zeroStream(bytes, 256 * 1024)],
      ['memory, 64 KiB chunks', () => zeroStream(bytes, 64 * 1024)],
      ['memory, 16 KiB chunks', () => zeroStream(bytes, 16 * 1024)],
      [
        'child stdout pipe (head -c)',
        () =>
          spawn('head', ['-c', String(bytes), '/dev/zero'], { stdio: ['ignore', 'pipe', 'ignore'] }).stdout,
      ],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [label, make] of sources) {
        const pool = new sshmux.mod.SshPool!();
        try {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const proc = await pool.spawn(host, 'cat >/dev/null');
          proc.stdout.resume();
          proc.stderr.resume();
          await pipeline(make(), proc.stdin);
          await proc.exited;
          const ms = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          console.log(
            `512 MiB into cat from ${label}: ${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s, client CPU ${((cpu.user + cpu.system) / 1e6 / (bytes / 2 ** 30)).toFixed(2)} s/GiB`,
          );
        } finally {
          await pool.close();
        }
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
