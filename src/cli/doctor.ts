import type { Command } from 'commander';
import type { CommandLineItem } from '../config/resolve-options.js';
import { runDoctor } from '../doctor/doctor.js';
import { ConfigError } from '../errors.js';
import type { CliContext } from './context.js';
import { formatDoctorJson, formatDoctorText } from './doctor-format.js';
import { VERSION } from './version.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function port(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new ConfigError(`sshmux doctor: bad port \`${text}\``);
  return n;
}

function seconds(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 3600))
    throw new ConfigError(`sshmux doctor: bad --timeout \`${text}\` (seconds, 1 to 3600)`);
  return n;
}

/** `sshmux doctor [dest] [--json]`: what is set up, what is wrong, and what to do; exit 1 when a check failed. */
export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description(
      'check this machine (and a destination): config, keys, agent, known_hosts, connection, daemon',
    )
    .argument('[dest]', '[user@]host, an ssh_config alias, or ssh://[user@]host[:port]')
    .option('--json', 'print the report as JSON')
    .option('-F <file>', "configuration file ('none' for none)")
    .option('-o <option>', 'Key=Value option, before any file (repeatable)', collect, [])
    .option('-p <port>', 'port')
    .option('-l <user>', 'remote user')
    .option('-i <file>', 'identity file (repeatable)', collect, [])
    .option('-J <jumps>', 'ProxyJump hops')
    .option('--no-connect', 'do not connect: configuration, keys and known_hosts only')
    .option('--timeout <seconds>', 'connect deadline when ConnectTimeout is not set (default 10)')
    .action(async (dest: string | undefined, opts: Record<string, unknown>) => {
      const commandLine: CommandLineItem[] = [
        ...(opts.o as string[]).map((text) => ({ kind: 'line' as const, text })),
        ...(typeof opts.J === 'string' ? [{ kind: 'jump' as const, value: opts.J }] : []),
      ];
      const report = await runDoctor(dest, {
        version: VERSION,
        logger: ctx.logger,
        connect: opts.connect !== false,
        ...(typeof opts.timeout === 'string' && { timeoutMs: seconds(opts.timeout) * 1000 }),
        resolve: {
          ...(typeof opts.F === 'string' && { configFile: opts.F }),
          commandLine,
          ...(typeof opts.p === 'string' && { port: port(opts.p) }),
          ...(typeof opts.l === 'string' && { user: opts.l }),
          identityFiles: opts.i as string[],
          // Like ssh: Match exec runs (doctor shows what a connection would use).
          allowMatchExec: true,
        },
      });
      ctx.stdout.write(opts.json === true ? formatDoctorJson(report) : formatDoctorText(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}
