import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { plainHostConfig } from '../../src/config/plain.js';
import { remoteManifest, SshPool } from '../../src/index.js';
import { FaultProxy, prng } from '../helpers/fault-proxy.js';
import { LinkEmulator, type LinkProfile } from '../helpers/link-emulator.js';
import { CONTAINER_BTRFS, type StartedSshd } from '../helpers/sshd.js';
import { runCli } from '../integration/mux-helpers.js';
import { startChaos } from './chaos.js';
import { ProcessHooks, settle, tcpSocketCount } from './checks.js';
import { daemonPids } from './daemon-state.js';
import { echoServer, mixOf, pick, writeSoakSshConfig } from './fixtures.js';
import { GrowthSeries, overLimit } from './growth.js';
import { RECEIVE_DIRS, waitNoRemote } from './leftovers.js';
import { type LongContext, longOperations, prune, pruneBtrfs } from './long-ops.js';
import { Gate, Mutex } from './mutex.js';
import { baseOperations, MARKER, type OpContext, type Operation } from './ops.js';
import { BASE_KINDS, LONG_KINDS, newReport, type OpKind, type SoakReport } from './report.js';
import { runOne, within } from './worker.js';

export { formatSoakTable, type OpKind, type OpTally, type SoakReport, summaryLine } from './report.js';

export interface SoakOptions {
  seed: number;
  /** Stop issuing operations after this many. */
  maxOperations: number;
  /** Stop issuing operations after this long (ms); running ones finish. */
  durationMs: number;
  /** Operations in flight at once. @default 3 */
  concurrency?: number;
  /** Restart sshd this often (ms); 0 never. */
  restartEveryMs: number;
  /** Include btrfs sends (needs `startSshd({ btrfs: true })`). */
  btrfs: boolean;
  /** Fault rates of new proxied connections. */
  rates?: { cut: number; stall: number; slow: number };
  /** The long soak (`npm run soak -- --long`): see LongSoakOptions. */
  long?: LongSoakOptions;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/**
 * What `--long` adds: the link emulator behind the fault proxy, forwards, scp, a filling
 * tmpfs, SIGKILLed daemons and clients, and RSS/fd growth sampled at quiet points.
 */
export interface LongSoakOptions {
  link: LinkProfile;
  /** A quiet point (nothing in flight, proxied connections reset, samples taken) this often. */
  sampleEveryMs: number;
  /** Samples before this are warm-up and not compared. */
  warmupMs: number;
  growthLimits: { rssMb: number; fds: number };
}

/** Run the fault soak against `sshd`; everything it starts is stopped before it returns. */
export async function runSoak(sshd: StartedSshd, options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const long = options.long;
  const rand = prng(options.seed);
  const started = Date.now();
  const work = mkdtempSync(path.join(os.tmpdir(), 'sshmux-soak-'));
  const dirs = long ? ['chaos', 'steady'] : ['xdg'];
  for (const d of dirs) mkdirSync(path.join(work, d), { mode: 0o700 });
  const socketsBefore = tcpSocketCount();
  const hooks = new ProcessHooks();
  // client → fault proxy → link emulator (long) → sshd
  const link = long ? await LinkEmulator.start({ targetPort: sshd.port, ...long.link }) : undefined;
  const proxy = await FaultProxy.start({
    targetPort: link?.port ?? sshd.port,
    seed: options.seed,
    rates: options.rates ?? { cut: 0.12, stall: 0.08, slow: 0.15 },
  });
  const echo = long ? await echoServer() : undefined;
  const hostKeyVerifier = async (key: Buffer): Promise<void> => {
    if (!sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')))
      throw new Error('unknown host key');
  };
  const host = (port: number) =>
    plainHostConfig({
      host: sshd.host,
      port,
      user: 'backup',
      identityFiles: [sshd.keyPath],
      strictHostKeyChecking: 'yes',
      userKnownHostsFiles: [sshd.knownHostsFile],
      serverAliveInterval: 1,
      serverAliveCountMax: 3,
      connectTimeoutMs: 5_000,
    });
  const faulty = host(proxy.port);
  // The daemon's sessions check host keys against known_hosts: name the proxy's port there.
  const proxyKnownHosts = path.join(work, 'known_hosts');
  writeFileSync(proxyKnownHosts, sshd.hostKeys.map((k) => `[${sshd.host}]:${proxy.port} ${k}\n`).join(''));
  const direct = host(sshd.port);
  const resolve = (dest: string) => (dest === 'faulty' ? faulty : direct);
  const pool = new SshPool({ hostKeyVerifier, resolve });
  const newCleanPool = () => new SshPool({ hostKeyVerifier, resolve: () => direct });
  const report = newReport(options.seed, long ? [...BASE_KINDS, ...LONG_KINDS] : BASE_KINDS);
  report.link = link?.describe() ?? '';

  // Fixed remote tree for manifest operations, and its manifest taken around the proxy.
  const remoteRoot = '/home/backup/soak';
  const small = `${remoteRoot}/small`;
  await sshd.sh(
    `rm -rf ${remoteRoot} && mkdir -p ${remoteRoot}/fixed/sub ${remoteRoot}/push ${remoteRoot}/scp ${remoteRoot}/killed && ` +
      `head -c 300000 /dev/urandom > ${remoteRoot}/fixed/big && echo hi > '${remoteRoot}/fixed/sub/a b' && ` +
      `ln -s 'sub/a b' ${remoteRoot}/fixed/link && chown -R backup:backup ${remoteRoot}` +
      // A remote file system that fills up: 4 MiB of tmpfs that push-full operations target.
      (long
        ? ` && mkdir -p ${small} && mount -t tmpfs -o size=4m,mode=0755 tmpfs ${small} && chown backup:backup ${small}`
        : ''),
  );
  const clean0 = newCleanPool();
  const fixedManifest = await remoteManifest(clean0, { dest: direct, path: `${remoteRoot}/fixed` });

  // btrfs: a writable subvolume on the host, snapshots beside it, receive directories.
  const bt = options.btrfs ? sshd.btrfs : undefined;
  if (options.btrfs && !bt) throw new Error('runSoak({ btrfs: true }) needs startSshd({ btrfs: true })');
  const vol = bt ? path.join(bt.source, 'soak-vol') : '';
  const snaps = bt ? path.join(bt.source, 'soak-snaps') : '';
  if (bt) {
    execFileSync('btrfs', ['subvolume', 'create', vol], { stdio: 'ignore' });
    mkdirSync(snaps);
    await sshd.sh(`mkdir -p ${RECEIVE_DIRS.map((d) => `${CONTAINER_BTRFS}/soak/${d}`).join(' ')}`);
  }
  const runtimeDirs = dirs.map((d) => path.join(work, d));
  // `sshmux` processes of the long soak: the proxy as `soak` (backup) and `soak-root`.
  const cliConfig = writeSoakSshConfig(path.join(work, 'ssh_config'), sshd, proxy.port, proxyKnownHosts);
  const ctx: LongContext = {
    sshd,
    seed: options.seed,
    rand,
    work,
    remoteRoot,
    pool,
    clean: clean0,
    direct,
    proxyPort: proxy.port,
    proxyKnownHosts,
    // Long: half the sessions through the daemon that gets SIGKILLed, half through the sampled one.
    daemonDir: long ? () => runtimeDirs[rand() < 0.5 ? 0 : 1]! : () => runtimeDirs[0]!,
    daemonPersist: long ? '3600' : '60',
    fixedManifest,
    bt,
    vol,
    snaps,
    pushes: new Map(),
    report,
    cliConfig,
    chaosDir: runtimeDirs[0]!,
    echoPort: echo ? (echo.address() as net.AddressInfo).port : 0,
    small,
    faultsSoFar: () => proxy.faults + report.faults.restarts + report.faults.daemonKills,
  };
  const operations: Record<string, Operation> = {
    ...baseOperations(ctx as OpContext),
    ...(long ? longOperations(ctx) : {}),
  };
  const btrfsLock = new Mutex();
  const locks: Partial<Record<OpKind, Mutex>> = {
    // btrfs sends share a chain and receive directories: one at a time, checks included.
    'btrfs-full': btrfsLock,
    'btrfs-incr': btrfsLock,
    'kill-btrfs': btrfsLock,
    // The only root logins: their leftover check counts root's sessions.
    'kill-push': new Mutex(),
    'push-full': new Mutex(),
    'kill-daemon': new Mutex(),
  };
  const gate = new Gate();
  const series = long
    ? [
        new GrowthSeries('daemon (steady)', long.warmupMs),
        new GrowthSeries('soak process (pool)', long.warmupMs),
      ]
    : [];

  /** A quiet point: nothing in flight, every proxied connection reset, then RSS/fds sampled. */
  const sample = async (): Promise<void> => {
    await gate.quiet(async () => {
      proxy.cutAll();
      await settle(() => pool.stats().connections, 1, 10_000);
      // The check pool is renewed, so its connections are not counted as the long-lived pool's.
      const old = ctx.clean;
      ctx.clean = newCleanPool();
      await within(10_000, 'check pool close', old.close()).catch(() => old.destroy());
      await settle(() => proxy.connections, 0, 5_000);
      (globalThis as { gc?: () => void }).gc?.();
      const elapsed = Date.now() - started;
      series[0]!.add(daemonPids(runtimeDirs[1]!)[0], elapsed);
      series[1]!.add(process.pid, elapsed);
      log(
        `sample at ${Math.round(elapsed / 1000)} s: ${series.map((s) => JSON.stringify(s.figure())).join(' ')}`,
      );
    });
  };

  const chaos = startChaos({
    sshd,
    pool,
    proxy,
    report,
    rand,
    log,
    restartEveryMs: options.restartEveryMs,
    // Long: fewer strikes on live connections (a stall freezes every operation sharing it), so the
    // 30 minutes reach their operations; new connections still get the proxy's own fault rates.
    strikeChance: long ? 0.1 : 0.4,
    sample: long ? { everyMs: long.sampleEveryMs, run: sample } : undefined,
  });

  let issued = 0;
  const mix = mixOf(options.btrfs, long !== undefined);
  const worker = async (): Promise<void> => {
    for (;;) {
      await gate.enter();
      try {
        if (issued >= options.maxOperations || Date.now() - started >= options.durationMs) return;
        const n = issued++;
        let kind = pick(mix, rand());
        // Long: a worker does not queue behind a serialised kind (btrfs, root pushes, the small
        // disk) while another holds it, it picks again: the cheap operations keep the count up.
        for (let i = 0; long && i < 8 && locks[kind]?.busy; i++) kind = pick(mix, rand());
        report.operations++;
        const one = async () => {
          if (long && kind.includes('btrfs')) pruneBtrfs(ctx);
          await runOne(ctx, report, kind, n, operations[kind]!, log);
          if (long) await prune(ctx, n);
        };
        const lock = locks[kind];
        await (lock ? lock.run(one) : one());
        if (n % 10 === 0) log(`#${n} ${kind} (${Math.round((Date.now() - started) / 1000)} s)`);
      } finally {
        gate.leave();
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 3 }, worker));
  } finally {
    await within(120_000, 'chaos loop', chaos.stop()).catch((err: Error) => report.leaks.push(err.message));
    const c = proxy.counts;
    Object.assign(report.faults, { cut: c.cut, stalled: c.stalled, slowed: c.slowed, refused: c.refused });

    // Leaks: channels, remote processes, daemons, sockets, process hooks.
    const channels = pool.stats().openChannels;
    if (channels !== 0) report.leaks.push(`${channels} channel(s) still open after all operations settled`);
    for (const pattern of [MARKER, 'btrfs receive']) {
      const left = await within(30_000, 'remote process check', waitNoRemote(ctx, pattern)).catch(
        (err: Error) => [err.message],
      );
      for (const p of left) report.leaks.push(`remote process: ${p}`);
    }
    for (const g of series) {
      const fig = g.figure();
      report.growth.push(fig);
      report.grew.push(...overLimit(fig, long!.growthLimits));
    }
    for (const dir of runtimeDirs) {
      await within(
        20_000,
        'sshmux ssh -O exit',
        runCli(['ssh', '-O', 'exit', 'x'], { env: { ...process.env, XDG_RUNTIME_DIR: dir } }),
      ).catch(() => {});
      const daemons = await settle(() => daemonPids(dir).length, 0, 10_000);
      if (daemons > 0) {
        report.leaks.push(`${daemons} daemon(s) still running after -O exit`);
        for (const pid of daemonPids(dir)) process.kill(pid, 'SIGKILL');
      }
    }
    for (const [name, p] of [
      ['pool', pool],
      ['check pool', ctx.clean],
    ] as const) {
      await within(20_000, `${name}.close()`, p.close()).catch((err: Error) => {
        report.leaks.push(err.message);
        p.destroy();
      });
    }
    await within(10_000, 'proxy.close()', proxy.close()).catch((err: Error) =>
      report.leaks.push(err.message),
    );
    await link?.close();
    await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
    const sockets = await settle(tcpSocketCount, socketsBefore, 5_000);
    if (sockets > socketsBefore) report.leaks.push(`${sockets - socketsBefore} TCP socket(s) still open`);
    hooks.stop();
    for (const u of hooks.unhandled) report.leaks.push(`unhandled rejection: ${u.split('\n')[0]}`);
    for (const u of hooks.uncaught) report.leaks.push(`uncaught exception: ${u.split('\n')[0]}`);
    for (const u of [...hooks.unhandled, ...hooks.uncaught]) log(`unhandled, whole stack: ${u}`);
    for (const w of hooks.warnings) report.leaks.push(`process warning: ${w}`);
    report.leaked = report.leaks.length;
    report.durationMs = Date.now() - started;
    rmSync(work, { recursive: true, force: true });
    if (long) await sshd.sh(`umount ${small}; true`);
    if (bt) {
      for (const d of RECEIVE_DIRS) {
        execFileSync('sh', [
          '-c',
          `btrfs subvolume delete ${path.join(bt.destination, 'soak', d)}/* 2>/dev/null; true`,
        ]);
      }
    }
  }
  return report;
}
