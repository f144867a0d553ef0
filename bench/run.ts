/**
 * `npm run bench [-- --quick] [-- --wan] [-- --only=latency,burst]`: sshmux side by side with
 * Debian's OpenSSH client against one containerized sshd, on loopback and (full runs, `--wan`)
 * through an emulated WAN link. Full runs write bench/results/latest.*, the others bench/results/quick/. No thresholds: the exit code says only whether the
 * benchmark itself worked.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSshdImage } from '../test/helpers/build-image.js';
import type { LinkProfile } from '../test/helpers/link-emulator.js';
import { btrfsAvailable, type StartedSshd, startSshd } from '../test/helpers/sshd.js';
import { directEndpoint, endpointOnPort, LinkProcess } from './lib/endpoint.js';
import { OpenSsh, SSH } from './lib/openssh.js';
import { killAllChildren, run } from './lib/proc.js';
import { machineInfo, type Report, renderMarkdown, type WanSection } from './lib/report.js';
import { FULL, QUICK, WAN_FULL, WAN_QUICK } from './lib/sizes.js';
import { loadSshmux, nativeBinding, ROOT, versionVerbose } from './lib/sshmux.js';
import { GiB } from './lib/stats.js';
import { renderSvg } from './lib/svg.js';
import type { Ctx, Row, Scenario, Sizes } from './lib/types.js';
import { ansibleScenario } from './scenarios/ansible.js';
import { btrfsScenario } from './scenarios/btrfs.js';
import { burstScenario } from './scenarios/burst.js';
import { cliLatencyScenario } from './scenarios/cli-latency.js';
import { connectScenario } from './scenarios/connect.js';
import { downloadScenario } from './scenarios/download.js';
import { gitCloneScenario } from './scenarios/git-clone.js';
import { manifestScenario } from './scenarios/manifest.js';
import { pushScenario } from './scenarios/push.js';
import { rssScenario } from './scenarios/rss.js';
import { runManyScenario } from './scenarios/run-many.js';
import { throughputScenario } from './scenarios/throughput.js';
import { warmLatencyScenario } from './scenarios/warm-latency.js';
import { windowScenario } from './scenarios/window.js';

const SCENARIOS: [string, Scenario][] = [
  ['connect', connectScenario],
  ['latency', warmLatencyScenario],
  ['cli', cliLatencyScenario],
  ['burst', burstScenario],
  ['many', runManyScenario],
  ['throughput', throughputScenario],
  ['download', downloadScenario],
  ['rss', rssScenario],
  ['btrfs', btrfsScenario],
  ['manifest', manifestScenario],
  ['git', gitCloneScenario],
  ['ansible', ansibleScenario],
];

// The WAN section: the same scenarios, both clients through the link emulator (own process).
const WAN_SCENARIOS: [string, Scenario][] = [
  ['connect', connectScenario],
  ['latency', warmLatencyScenario],
  ['burst', burstScenario],
  ['git', gitCloneScenario],
  ['push', pushScenario],
  ['btrfs', btrfsScenario],
  ['manifest', manifestScenario],
  ['window', windowScenario],
];

const CIPHERS = ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com'] as const;

interface Args {
  quick: boolean;
  only: Set<string> | undefined;
  /** Run the WAN section only (`--wan`); a full run without `--quick` runs both. */
  wanOnly: boolean;
  link: LinkProfile;
  wide: LinkProfile;
}

function positive(arg: string, name: string): number {
  const v = Number(arg.slice(name.length + 3));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`\`--${name}\` needs a positive number, got \`${arg}\``);
  return v;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    only: undefined,
    wanOnly: false,
    link: {},
    wide: { rttMs: 100, upMbit: 1000 },
  };
  for (const arg of argv) {
    if (arg === '--quick') args.quick = true;
    else if (arg === '--wan') args.wanOnly = true;
    else if (arg.startsWith('--only=')) args.only = new Set(arg.slice(7).split(','));
    else if (arg.startsWith('--rtt=')) args.link.rttMs = positive(arg, 'rtt');
    else if (arg.startsWith('--mbit=')) args.link.upMbit = positive(arg, 'mbit');
    else if (arg.startsWith('--wide-rtt=')) args.wide.rttMs = positive(arg, 'wide-rtt');
    else if (arg.startsWith('--wide-mbit=')) args.wide.upMbit = positive(arg, 'wide-mbit');
    else
      throw new Error(
        `Unknown argument \`${arg}\` (expected --quick, --wan, --only=a,b, --rtt=MS, --mbit=N, --wide-rtt=MS, --wide-mbit=N)`,
      );
  }
  if (args.only) {
    // --wan runs the WAN section only; a full run runs both; --quick alone the loopback one.
    const sections = args.wanOnly ? WAN_SCENARIOS : args.quick ? SCENARIOS : [...SCENARIOS, ...WAN_SCENARIOS];
    const known = new Set(sections.map(([id]) => id));
    for (const id of args.only)
      if (!known.has(id)) throw new Error(`Unknown scenario \`${id}\`; known: ${[...known].join(', ')}`);
  }
  return args;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Run `scenarios` (those `only` names) with `ctx`, collecting rows and harness errors. */
async function runScenarios(
  ctx: Ctx,
  scenarios: [string, Scenario][],
  only: Set<string> | undefined,
  rows: Row[],
  errors: string[],
): Promise<void> {
  const tag = ctx.link ? 'wan ' : '';
  for (const [id, scenario] of scenarios) {
    if (only && !only.has(id)) continue;
    log(`scenario ${tag}${id}`);
    const t0 = performance.now();
    try {
      rows.push(...(await scenario(ctx)));
    } catch (err) {
      const msg = `${tag}${id}: ${(err as Error).stack ?? String(err)}`;
      errors.push(msg.split('\n').slice(0, 4).join(' | '));
      log(`scenario ${tag}${id} BROKE: ${msg}`);
    } finally {
      await ctx.openssh.closeAll();
    }
    log(`scenario ${tag}${id} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { quick, only, wanOnly } = args;
  const loopback = !wanOnly;
  const wan = wanOnly || !quick;
  const sizes = quick ? QUICK : FULL;
  const wanSizes = quick ? WAN_QUICK : WAN_FULL;
  const started = performance.now();
  const errors: string[] = [];
  const rows: Row[] = [];
  const wanRows: Row[] = [];
  let wanSection: WanSection | undefined;

  log('building the sshd image (Dockerfile.sshd)');
  await buildSshdImage();
  const sshmux = await loadSshmux();
  if (sshmux.unavailable) log(`sshmux: ${sshmux.unavailable}`);
  const wantBtrfs = (!only || only.has('btrfs') || (wan && only.has('window'))) && btrfsAvailable();
  // Each section removes its snapshots when done, so the larger of the two decides the size.
  const btrfsNeed = Math.max(
    ...[loopback && sizes, wan && wanSizes]
      .filter((z): z is Sizes => z !== false)
      .map((z) => Math.max(z.btrfsBytes * 2.5 + z.btrfsIncrementBytes * 2, z.wideBytes * 2.5)),
  );
  const btrfsSize = `${Math.ceil(btrfsNeed / GiB) + 1}G`;

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sshmux-bench-'));
  let sshd: StartedSshd | undefined;
  let openssh: OpenSsh | undefined;
  let link: LinkProcess | undefined;
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    log(`${sig}: stopping children and the container`);
    killAllChildren();
    void (sshd?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`starting sshd (btrfs: ${wantBtrfs ? btrfsSize : 'no'})`);
    sshd = await startSshd({ btrfs: wantBtrfs, ...(wantBtrfs && { btrfsSize }), sshdOptions: [] });
    const base = { sshd, quick, tmp, sshmux, log, wide: args.wide };
    if (loopback) {
      const endpoint = directEndpoint(sshd);
      openssh = new OpenSsh(endpoint, tmp);
      await runScenarios(
        { ...base, sizes, endpoint, openssh, ciphers: CIPHERS },
        SCENARIOS,
        only,
        rows,
        errors,
      );
    }
    if (wan) {
      const t0 = performance.now();
      link = await LinkProcess.start(sshd.port, args.link);
      log(`WAN section: link emulator on port ${link.port}, ${link.description}`);
      const endpoint = endpointOnPort(sshd, link.port, tmp);
      openssh = new OpenSsh(endpoint, tmp);
      const ctx: Ctx = { ...base, sizes: wanSizes, endpoint, link, openssh, ciphers: [CIPHERS[0]] };
      await runScenarios(ctx, WAN_SCENARIOS, only, wanRows, errors);
      const counts = await link.counts();
      wanSection = {
        profile: link.description,
        durationSec: (performance.now() - t0) / 1000,
        linkCounts: counts,
        sizes: { ...wanSizes, ciphers: [CIPHERS[0]], wide: args.wide },
        rows: wanRows,
      };
    }
  } finally {
    await openssh?.closeAll().catch(() => {});
    await link?.close().catch(() => {});
    killAllChildren();
    await sshd?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const sshVersion = (await run(SSH, ['-V'])).stderr.trim();
  const report: Report = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    durationSec: (performance.now() - started) / 1000,
    machine: machineInfo(nativeBinding(), await versionVerbose(), sshVersion),
    sizes: loopback
      ? {
          ...sizes,
          ciphers: CIPHERS,
          sshd: 'MaxSessions 10 (default), MaxStartups 10:30:100',
          ...(!quick && {
            note: 'btrfs snapshot and manifest tree are 1 GiB, not 2 GiB, to keep a full run near 15 min',
          }),
        }
      : {},
    rows,
    errors,
    ...(wanSection && { wan: wanSection }),
  };
  const partial = only !== undefined || (wanOnly && !quick);
  const outDir = path.join(ROOT, 'bench/results', quick || partial ? 'quick' : '');
  mkdirSync(outDir, { recursive: true });
  const name = only ? 'partial' : wanOnly ? (quick ? 'wan-quick' : 'wan') : 'latest';
  const file = path.join(outDir, name);
  writeFileSync(`${file}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${file}.md`, renderMarkdown(report));
  writeFileSync(`${file}.svg`, renderSvg(report));
  log(`wrote ${path.relative(ROOT, file)}.{md,json,svg} in ${Math.round(report.durationSec)} s`);
  process.stdout.write(renderMarkdown(report));
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    killAllChildren();
    log(`benchmark failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
