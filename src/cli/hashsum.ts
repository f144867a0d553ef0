import type { Command } from 'commander';
import { entryJson } from '../manifest/format.js';
import { remoteManifest } from '../manifest/manifest.js';
import { displayPath } from '../manifest/raw-path.js';
import { sha256sumLine } from '../manifest/sha256sum-format.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';
import { writeOut } from './write-out.js';

/** `sshmux hashsum dest:PATH [--json]`: GNU sha256sum lines (or JSON lines) for the remote tree. */
export function registerHashsumCommand(program: Command, ctx: CliContext): void {
  withSshFlags(program.command('hashsum'))
    .description('SHA-256 of every file under a remote directory, printed like GNU sha256sum')
    .argument('<dest:PATH>', 'remote directory, scp syntax')
    .option('--json', 'one JSON object per line, symlinks and unreadable files included')
    .action(async (spec: string, opts: { json?: boolean } & SshFlags) => {
      const pool = cliPool(ctx, opts);
      try {
        const manifest = await remoteManifest(pool, spec, { logger: ctx.logger });
        const out: Buffer[] = [];
        let errors = 0;
        for (const [p, entry] of manifest) {
          if (opts.json) {
            out.push(Buffer.from(`${JSON.stringify(entryJson(p, entry))}\n`));
          } else if (entry.type === 'file') {
            out.push(sha256sumLine(entry.sha256, p));
          } else if (entry.type === 'symlink') {
            ctx.logger.debug({ path: displayPath(p) }, 'symlink not hashed (links are listed, not followed)');
          }
          if (entry.type === 'error') {
            errors++;
            ctx.stderr.write(`sshmux: hashsum: ${displayPath(p)}: ${entry.message}\n`);
          }
          // Flush in slices: bounded memory for very large trees.
          if (out.length >= 4096) await writeOut(ctx.stdout, Buffer.concat(out.splice(0)));
        }
        if (out.length > 0) await writeOut(ctx.stdout, Buffer.concat(out));
        // Like sha256sum: 1 when some file could not be read.
        process.exitCode = errors > 0 ? 1 : 0;
      } finally {
        await pool.close();
      }
    });
}
