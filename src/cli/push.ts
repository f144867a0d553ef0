import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { jsonPath } from '../manifest/format.js';
import { push } from '../push/push.js';
import { parseRate } from '../push/rate-limiter.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';
import { progressPrinter } from './tree-progress.js';
import { writeOut } from './write-out.js';

interface PushFlags extends SshFlags {
  checksum?: boolean;
  delete?: boolean;
  limitRate?: string;
  verify?: boolean;
  json?: boolean;
  concurrency?: string;
}

/** `sshmux push LOCAL dest:PATH [--checksum] [--delete] [--limit-rate R] [--verify] [--json]`. */
export function registerPushCommand(program: Command, ctx: CliContext): void {
  withSshFlags(program.command('push'))
    .description('copy a local directory to a remote one over SFTP, skipping unchanged files (like rsync -a)')
    .argument('<local>', 'local directory')
    .argument('<dest:PATH>', 'remote directory, scp syntax (created when missing)')
    .option('--checksum', 'compare SHA-256 instead of size and mtime')
    .option('--delete', 'delete remote entries that do not exist locally')
    .option('--limit-rate <rate>', 'bytes per second over all files, e.g. 500k, 2M')
    .option('--verify', 'compare both trees by SHA-256 afterwards (exit 1 when they differ)')
    .option('--concurrency <n>', 'files in flight', '4')
    .option('--json', 'the result as one JSON object on stdout')
    .action(async (local: string, spec: string, flags: PushFlags) => {
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        throw new ConfigError(
          `Expected --concurrency to be an integer from 1 and up, got \`${flags.concurrency}\``,
        );
      }
      const progress = progressPrinter(ctx, 'push');
      const pool = cliPool(ctx, flags);
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await push(pool, local, spec, {
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
            uploaded: paths(r.uploaded),
            resumed: paths(r.resumed),
            attributesSet: paths(r.attributesSet),
            symlinks: paths(r.symlinks),
            directoriesCreated: paths(r.directoriesCreated),
            deleted: paths(r.deleted),
            unchanged: r.unchanged,
            bytesSent: r.bytesSent,
            verified: r.verified,
          };
          await writeOut(ctx.stdout, `${JSON.stringify(out)}\n`);
        } else {
          const parts = [
            `${r.uploaded.length} file(s) sent (${r.bytesSent} bytes)`,
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
