import type { Command } from 'commander';
import { compareManifests } from '../manifest/compare.js';
import { jsonPath } from '../manifest/format.js';
import { localManifest, remoteManifest } from '../manifest/manifest.js';
import { displayPath } from '../manifest/raw-path.js';
import type { Manifest } from '../manifest/types.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';
import { writeOut } from './write-out.js';

function errorsOf(m: Manifest): [string, string][] {
  return [...m].flatMap(([p, e]) => (e.type === 'error' ? [[p, e.message] as [string, string]] : []));
}

/** `sshmux verify LOCAL dest:PATH`: exit 0 identical, 1 different, 2 error (including unreadable files). */
export function registerVerifyCommand(program: Command, ctx: CliContext): void {
  withSshFlags(program.command('verify'))
    .description('compare a local directory with a remote one by SHA-256 (exit 0 same, 1 different, 2 error)')
    .argument('<local>', 'local directory')
    .argument('<dest:PATH>', 'remote directory, scp syntax')
    .option('--json', 'the comparison as one JSON object')
    .action(async (local: string, spec: string, opts: { json?: boolean } & SshFlags) => {
      const pool = cliPool(ctx, opts);
      try {
        const [mine, theirs] = await Promise.all([
          localManifest(local),
          remoteManifest(pool, spec, { logger: ctx.logger }),
        ]);
        const c = compareManifests(mine, theirs);
        const localErrors = errorsOf(mine);
        const remoteErrors = errorsOf(theirs);
        const errorPaths = new Set([...localErrors, ...remoteErrors].map(([p]) => p));
        const mismatched = c.mismatched.filter((p) => !errorPaths.has(p));
        if (opts.json) {
          const paths = (list: string[]) => list.map((p) => jsonPath(p));
          const errs = (list: [string, string][]) =>
            list.map(([p, message]) => ({ ...jsonPath(p), error: message }));
          const report = {
            identical: c.identical.length,
            missing: paths(c.missing),
            extra: paths(c.extra),
            mismatched: paths(mismatched),
            localErrors: errs(localErrors),
            remoteErrors: errs(remoteErrors),
          };
          await writeOut(ctx.stdout, `${JSON.stringify(report)}\n`);
        } else {
          const lines: string[] = [];
          for (const p of c.missing) lines.push(`missing on remote: ${displayPath(p)}`);
          for (const p of c.extra) lines.push(`extra on remote: ${displayPath(p)}`);
          for (const p of mismatched) lines.push(`differs: ${displayPath(p)}`);
          for (const [p, m] of localErrors) lines.push(`unreadable locally: ${displayPath(p)}: ${m}`);
          for (const [p, m] of remoteErrors) lines.push(`unreadable on remote: ${displayPath(p)}: ${m}`);
          lines.push(
            `${c.identical.length} identical, ${c.missing.length} missing on remote, ${c.extra.length} extra on remote, ` +
              `${mismatched.length} different, ${localErrors.length + remoteErrors.length} unreadable`,
          );
          await writeOut(ctx.stdout, `${lines.join('\n')}\n`);
        }
        const different = c.missing.length + c.extra.length + mismatched.length > 0;
        process.exitCode = errorPaths.size > 0 ? 2 : different ? 1 : 0;
      } finally {
        await pool.close();
      }
    });
}
