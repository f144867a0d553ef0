import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { formatBytes, formatDuration } from '../btrfs/format.js';
import { listSubvolumes } from '../btrfs/list-subvolumes.js';
import type { ReplicateOptions } from '../btrfs/options.js';
import type { ProgressEvent } from '../btrfs/progress-meter.js';
import { pullSnapshot, type ReplicateResult, relaySnapshot, sendSnapshot } from '../btrfs/replicate.js';
import { ConfigError } from '../errors.js';
import type { RemoteRunner } from '../pool/types.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';

interface TransferFlags extends SshFlags {
  parent?: string | false;
  compress?: 'zstd';
  limitRate?: string;
  json?: boolean;
  stallTimeout?: string;
  progress?: boolean;
  resume?: boolean;
  resumeSpool?: string;
}

type Replicate = (pool: RemoteRunner, options: ReplicateOptions) => Promise<ReplicateResult>;

/** How progress is shown: a bar on a terminal, periodic lines otherwise, JSON lines with --json. */
function progressReporter(
  ctx: CliContext,
  flags: TransferFlags,
): { onProgress: (e: ProgressEvent) => void; stop(): void } {
  const out = ctx.stdout as NodeJS.WritableStream;
  if (flags.json) {
    return {
      onProgress: (e) => out.write(`${JSON.stringify({ event: 'progress', ...e })}\n`),
      stop: () => undefined,
    };
  }
  if (flags.progress === false) return { onProgress: () => undefined, stop: () => undefined };
  const err = ctx.stderr as NodeJS.WriteStream;
  const text = (e: ProgressEvent) => ({
    done_h: formatBytes(e.bytes),
    total_h: e.total === null ? '?' : formatBytes(e.total),
    rate_h: `${formatBytes(e.rate)}/s`,
    elapsed_h: formatDuration(e.elapsedMs),
    eta_h: e.etaMs === null ? '--:--' : formatDuration(e.etaMs),
  });
  if (err.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    let sized = false;
    return {
      onProgress: (e) => {
        // The size estimate can arrive after the first bytes: the bar then gains its total and ETA.
        if (bar && !sized && e.total !== null) {
          bar.stop();
          bar = undefined;
        }
        if (!bar) {
          sized = e.total !== null;
          const format =
            e.total === null
              ? 'btrfs {done_h} | {rate_h} | {elapsed_h}'
              : 'btrfs [{bar}] {percentage}% | {done_h}/{total_h} | {rate_h} | ETA {eta_h}';
          bar = new cliProgress.SingleBar(
            { stream: err, format, hideCursor: true, barsize: 30, fps: 4 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.total ?? 1, 0, text(e));
        }
        bar.update(e.total === null ? 0 : Math.min(e.bytes, e.total), text(e));
      },
      stop: () => bar?.stop(),
    };
  }
  let last = Number.NEGATIVE_INFINITY;
  return {
    onProgress: (e) => {
      if (!e.done && e.elapsedMs - last < 5_000) return;
      last = e.elapsedMs;
      const t = text(e);
      const eta = e.etaMs === null || e.done ? '' : `, ETA ${t.eta_h}`;
      err.write(
        `sshmux: btrfs: ${t.done_h}${e.total === null ? '' : ` of ~${t.total_h}`}, ${t.rate_h}, ${t.elapsed_h}${eta}\n`,
      );
    },
    stop: () => undefined,
  };
}

function summary(verb: string, r: ReplicateResult, target: string): string {
  if (r.status === 'already-there') return `${r.name}: already there (${target}); nothing sent\n`;
  const mode = r.parent === null ? 'full' : `incremental from ${r.parent}`;
  const resumed =
    r.resumedBytes > 0 ? ` (+${formatBytes(r.resumedBytes)} replayed from the receiver's spool)` : '';
  return `${verb} ${r.name} to ${target} (${mode}): ${formatBytes(r.bytes)}${resumed} in ${formatDuration(r.durationMs)}, verified\n  ${r.reason}\n  resume: ${r.resume}\n  verified: ${r.verification}\n`;
}

function transferCommand(ctx: CliContext, cmd: Command, verb: string, run: Replicate): Command {
  return withSshFlags(cmd)
    .addOption(
      new Option('--parent <path>', 'incremental parent on the sending side (default: chosen automatically)'),
    )
    .option('--no-parent', 'full send, no incremental parent')
    .addOption(new Option('--compress <algo>', 'compress the stream on both ends').choices(['zstd']))
    .option('--limit-rate <rate>', 'bytes per second, e.g. 50M or 512k')
    .option('--stall-timeout <seconds>', 'fail when no data moves for this long', '300')
    .option('--no-progress', 'no progress display')
    .option('--no-resume', 'keep no resume spool on the receiver, and remove an existing one')
    .option('--resume-spool <size>', 'largest resume spool, e.g. 20G (default: half the free space)')
    .option('--json', 'JSON lines on stdout: progress events and the result')
    .action(async (source: string, target: string, flags: TransferFlags) => {
      const stall = Number(flags.stallTimeout);
      if (!(stall > 0)) {
        throw new ConfigError(`--stall-timeout: expected seconds above 0, got \`${flags.stallTimeout}\``);
      }
      const reporter = progressReporter(ctx, flags);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      const pool = cliPool(ctx, flags);
      try {
        const result = await run(pool, {
          source,
          target,
          parent: flags.parent === false ? null : (flags.parent ?? 'auto'),
          compress: flags.compress ?? null,
          rateLimit: flags.limitRate ?? null,
          stallTimeout: stall * 1000,
          onProgress: reporter.onProgress,
          // The size estimate is a second (metadata-only) send: only when someone sees the ETA.
          estimateSize: flags.progress !== false || flags.json === true,
          progressInterval: flags.json ? 1_000 : 250,
          signal: ac.signal,
          resume: flags.resume !== false,
          spoolLimit: flags.resumeSpool ?? null,
          logger: ctx.logger,
        });
        reporter.stop();
        if (flags.json) ctx.stdout.write(`${JSON.stringify({ event: 'done', ...result })}\n`);
        else ctx.stdout.write(summary(verb, result, target));
      } finally {
        reporter.stop();
        process.removeListener('SIGINT', onSigint);
        await pool.close();
      }
    });
}

/** `sshmux btrfs send|pull|relay|list`: replication of read-only snapshots over pooled exec channels. */
export function registerBtrfsCommand(program: Command, ctx: CliContext): void {
  const btrfs = program
    .command('btrfs')
    .description('btrfs snapshot replication over SSH (send, pull, relay, list)');
  transferCommand(
    ctx,
    btrfs
      .command('send')
      .description('send a local read-only snapshot to dest:DIR (incremental when possible), verified')
      .argument('<snapshot>', 'local read-only snapshot')
      .argument('<dest:DIR>', 'remote directory on btrfs'),
    'sent',
    sendSnapshot,
  );
  transferCommand(
    ctx,
    btrfs
      .command('pull')
      .description('receive a remote read-only snapshot into a local btrfs directory, verified')
      .argument('<dest:SNAPSHOT>', 'remote read-only snapshot')
      .argument('<local-dir>', 'local directory on btrfs'),
    'pulled',
    pullSnapshot,
  );
  transferCommand(
    ctx,
    btrfs
      .command('relay')
      .description('stream a snapshot from one remote host to another through this process, verified')
      .argument('<a:SNAPSHOT>', 'remote read-only snapshot')
      .argument('<b:DIR>', 'remote directory on btrfs'),
    'relayed',
    relaySnapshot,
  );
  withSshFlags(btrfs.command('list'))
    .description('subvolumes directly inside a directory (dest:DIR or a local directory)')
    .argument('<dir>', 'dest:DIR or a local directory')
    .option('--json', 'one JSON object per line')
    .action(async (dir: string, flags: SshFlags & { json?: boolean }) => {
      const pool = cliPool(ctx, flags);
      try {
        const list = await listSubvolumes(pool, dir);
        const lines = list.map((s) =>
          flags.json
            ? JSON.stringify(s)
            : [
                s.name,
                s.readonly ? 'ro' : 'rw',
                `gen=${s.generation}`,
                `cgen=${s.cgen}`,
                `uuid=${s.uuid}`,
                `parent=${s.parentUuid ?? '-'}`,
                `received=${s.receivedUuid ?? '-'}`,
              ].join('\t'),
        );
        ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
      } finally {
        await pool.close();
      }
    });
}
