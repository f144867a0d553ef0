import type { Command } from 'commander';
import { AbortedError, ConfigError } from '../errors.js';
import { cliPool, type SshFlags, withSshFlags } from './cli-pool.js';
import type { CliContext } from './context.js';
import { collectHosts } from './run-hosts.js';
import { groupHeader, LinePrefixer, resultJson, summaryJson, summaryTable } from './run-output.js';
import { writeOut } from './write-out.js';

interface RunFlags extends SshFlags {
  host: string[];
  hostsFile: string[];
  concurrency?: string;
  connectConcurrency?: string;
  connectStagger?: string;
  timeout?: string;
  json?: boolean;
  group?: boolean;
}

function number(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min))
    throw new ConfigError(`sshmux run: ${flag} expects a number from ${min} and up, got \`${text}\``);
  return n;
}

function integer(flag: string, text: string | undefined): number | undefined {
  const n = number(flag, text, 1);
  if (n !== undefined && !Number.isInteger(n)) {
    throw new ConfigError(`sshmux run: ${flag} expects an integer, got \`${text}\``);
  }
  return n;
}

/**
 * `sshmux run [-H host]… [--hosts-file F]… [-F config] [--concurrency N] [--json | --group] -- cmd args…`:
 * the command (argv, quoted for the remote shell) on every host through `pool.execMany`.
 * Exit status 0 only when every host ran it with status 0; 1 otherwise; 2 for usage errors.
 */
export function registerRunCommand(program: Command, ctx: CliContext): void {
  const collect = (v: string, all: string[]) => [...all, v];
  withSshFlags(program.command('run'))
    .description('run one command on many hosts, output prefixed by host, a summary at the end')
    .argument('<command...>', 'the remote command and its arguments (after --), quoted for the remote shell')
    .option('-H, --host <dest>', 'a destination (repeatable; several space-separated in one)', collect, [])
    .option(
      '--hosts-file <file>',
      'destinations one per line, # comments (repeatable; - for stdin)',
      collect,
      [],
    )
    .option('--concurrency <n>', 'hosts running at once (default 32)')
    .option(
      '--connect-concurrency <n>',
      'connection attempts in flight at once, below MaxStartups (default 8)',
    )
    .option('--connect-stagger <ms>', 'milliseconds between connection attempts (default 20)')
    .option('--timeout <seconds>', "each host's command time limit, connection not counted")
    .option('--json', 'one JSON object per host as it ends, then {"summary": …}; no other stdout')
    .option('--group', "each host's output together when it ends, under a header, instead of host: line")
    .action(async (argv: string[], flags: RunFlags) => {
      if (flags.json && flags.group)
        throw new ConfigError('sshmux run: --json and --group exclude each other');
      const hosts = await collectHosts(flags.host, flags.hostsFile);
      const timeout = number('--timeout', flags.timeout, 0.001);
      const concurrency = integer('--concurrency', flags.concurrency);
      const connectConcurrency = integer('--connect-concurrency', flags.connectConcurrency);
      const connectStagger = number('--connect-stagger', flags.connectStagger, 0);
      const live = !flags.json && !flags.group;
      const out = new LinePrefixer((b) => ctx.stdout.write(b));
      const err = new LinePrefixer((b) => ctx.stderr.write(b));
      const pool = cliPool(ctx, flags);
      // Ctrl-C or a TERM ends the run, not the process: unfinished hosts are killed and reported.
      const ac = new AbortController();
      const onSignal = (): void => ac.abort(new AbortedError('sshmux run: interrupted'));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const run = pool.execMany(hosts, argv, {
          signal: ac.signal,
          ...(timeout !== undefined && { timeout: timeout * 1000 }),
          ...(concurrency !== undefined && { concurrency }),
          ...(connectConcurrency !== undefined && { connectConcurrency }),
          ...(connectStagger !== undefined && { connectStagger }),
          ...(live && {
            onOutput: (host: string, stream: 'stdout' | 'stderr', chunk: Buffer) =>
              (stream === 'stdout' ? out : err).push(host, chunk),
          }),
        });
        for await (const r of run) {
          if (flags.json) {
            await writeOut(ctx.stdout, resultJson(r));
          } else if (flags.group) {
            await writeOut(ctx.stdout, Buffer.concat([Buffer.from(groupHeader(r)), r.stdout as Buffer]));
            if (r.stderr.length > 0)
              await writeOut(ctx.stderr, Buffer.concat([Buffer.from(groupHeader(r)), r.stderr as Buffer]));
          } else {
            out.end(r.host);
            err.end(r.host);
          }
        }
        const summary = await run.summary();
        if (flags.json) await writeOut(ctx.stdout, summaryJson(summary));
        else ctx.stderr.write(summaryTable(summary));
        process.exitCode = summary.ok === summary.total ? 0 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await pool.close();
      }
    });
}
