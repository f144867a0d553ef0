import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { jsonPath } from '../manifest/format.js';
import { pull } from '../pull/pull.js';
import { parseRate } from '../push/rate-limiter.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';
import { progressPrinter } from './tree-progress.js';
import { writeOut } from './write-out.js';

interface PullFlags extends SshFlags {
  checksum?: boolean;
  delete?: boolean;
  limitRate?: string;
  verify?: boolean;
  json?: boolean;
  concurrency?: string;
}

/** `sshmux pull dest:PATH LOCAL [--checksum] [--delete] [--limit-rate R] [--verify] [--json]`: push, mirrored. */
export function registerPullCommand(program: Command, ctx: CliContext): void {
  withSshFlags(program.command('pull'))
    .description('copy a remote directory to a local one over SFTP, skipping unchanged files (like rsync -a)')
    .argument('<dest:PATH>', 'remote directory, scp syntax')
    .argument('<local>', 'local directory (created when missing)')
    .option('--checksum', 'compare SHA-256 instead of size and mtime')
    .option('--delete', 'delete local entries that do not exist on the remote')
    .option('--limit-rate <rate>', 'bytes per second over all files, e.g. 500k, 2M')
    .option('--verify', 'compare both trees by SHA-256 afterwards (exit 1 when they differ)')
    .option('--concurrency <n>', 'files in flight', '4')
    .option('--json', 'the result as one JSON object on stdout')
    .action(async (spec: string, local: string, flags: PullFlags) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new ConfigError(
          `Expected --concurrency to be an integer from 1 and up, got \`${flags.concurrency}\``,
        );
      }
      const progress = progressPrinter(ctx, 'pull');
      const pool = cliPool(ctx, flags);
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await pull(pool, spec, local, {
          checksum: flags.checksum === true,
          delete: flags.delete === true,
          verify: flags.verify === true,
          concurrency,
          ...(flags.limitRate !== undefined && { rateLimit: parseRate(flags.limitRate) }),
          onProgress: progress.update,
          signal: ac.signal,
          logger: ctx.logger,
        });
        progress.done();
        if (flags.json) {
          const paths = (list: string[]) => list.map((p) => jsonPath(p).path);
          const out = {
            downloaded: paths(r.downloaded),
            resumed: paths(r.resumed),
            attributesSet: paths(r.attributesSet),
            symlinks: paths(r.symlinks),
            directoriesCreated: paths(r.directoriesCreated),
            deleted: paths(r.deleted),
            unchanged: r.unchanged,
            bytesReceived: r.bytesReceived,
            verified: r.verified,
          };
          await writeOut(ctx.stdout, `${JSON.stringify(out)}\n`);
        } else {
          const parts = [
            `${r.downloaded.length} file(s) received (${r.bytesReceived} bytes)`,
            `${r.resumed.length} resumed`,
            `${r.unchanged} unchanged`,
            `${r.symlinks.length} symlink(s)`,
            `${r.deleted.length} deleted`,
          ];
          await writeOut(ctx.stdout, `${parts.join(', ')}${r.verified ? ', verified' : ''}\n`);
        }
        process.exitCode = 0;
      } finally {
        process.off('SIGINT', onSigint);
        await pool.close();
      }
    });
}
