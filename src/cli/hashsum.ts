import type { Command } from 'commander';
import { resolveHostConfig } from '../config/resolve.js';
import { ConfigError } from '../errors.js';
import { entryJson } from '../manifest/format.js';
import { remoteManifest } from '../manifest/manifest.js';
import { displayPath } from '../manifest/raw-path.js';
import { sha256sumLine } from '../manifest/sha256sum-format.js';
import { splitDestination } from '../pool/default-resolver.js';
import { SshPool } from '../pool/ssh-pool.js';
import type { CliContext } from './context.js';

/** scp-style connection flags shared by hashsum, verify and push. */
export interface SshFlags {
  F?: string;
  o?: string[];
  i?: string[];
}

/** Add `-F file`, `-o Key=Value`…, `-i key`… (as scp takes them) to a command. */
export function withSshFlags(command: Command): Command {
  const collect = (v: string, all: string[]) => [...all, v];
  return command
    .option('-F <file>', "ssh_config file ('none' for none)")
    .option('-o <option>', 'ssh_config Key=Value, before any file (repeatable)', collect, [])
    .option('-i <file>', 'identity file (repeatable)', collect, []);
}

/** The CLI's pool; ssh_config resolution honours `-F`, `-o` and `-i` when given. */
export function cliPool(ctx: CliContext, flags: SshFlags): SshPool {
  const overrides = (flags.o ?? []).map((o): [string, string] => {
    const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(o);
    if (!m) throw new ConfigError(`Expected -o Key=Value, got \`${o}\``);
    return [m[1]!, m[2]!];
  });
  if (flags.F === undefined && overrides.length === 0 && (flags.i ?? []).length === 0) {
    return new SshPool({ logger: ctx.logger });
  }
  return new SshPool({
    logger: ctx.logger,
    resolve: (dest) => {
      const { target, port } = splitDestination(dest);
      return resolveHostConfig(target, {
        ...(flags.F !== undefined && { configFile: flags.F }),
        overrides,
        identityFiles: flags.i ?? [],
        ...(port !== undefined && { port }),
      });
    },
  });
}

/** Write and wait until the stream took it, so large outputs keep backpressure. */
export function writeOut(stream: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

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
