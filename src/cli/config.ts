import type { Command } from 'commander';
import { resolveHostConfig } from '../config/resolve.js';
import { formatSshG } from '../config/ssh-g.js';
import { ConfigError } from '../errors.js';
import type { CliContext } from './context.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function port(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new ConfigError(`sshmux config: bad port \`${text}\``);
  return n;
}

/** `sshmux config [-F file] [-o K=V]… [-p port] [-l user] [-i key]… [-4|-6] dest`: print the resolved config like `ssh -G`. */
export function registerConfigCommand(program: Command, ctx: CliContext): void {
  program
    .command('config')
    .description('print the resolved configuration for a destination, like `ssh -G`')
    .argument('<dest>', '[user@]host, an ssh_config alias, or ssh://[user@]host[:port]')
    .option('-F <file>', "configuration file ('none' for none)")
    .option('-o <option>', 'Key=Value option, before any file (repeatable)', collect, [])
    .option('-p <port>', 'port')
    .option('-l <user>', 'remote user')
    .option('-i <file>', 'identity file (repeatable)', collect, [])
    .option('-4', 'IPv4 only')
    .option('-6', 'IPv6 only')
    .option('--no-match-exec', 'do not run the commands of `Match exec` lines (such a Match then fails)')
    .action(async (dest: string, opts: Record<string, unknown>) => {
      const hc = await resolveHostConfig(dest, {
        ...(typeof opts.F === 'string' && { configFile: opts.F }),
        // Each -o is read as ssh reads it: a configuration line (`Key=value`, `Key value`, quotes).
        commandLine: (opts.o as string[]).map((text) => ({ kind: 'line' as const, text })),
        ...(typeof opts.p === 'string' && { port: port(opts.p) }),
        ...(typeof opts.l === 'string' && { user: opts.l }),
        identityFiles: opts.i as string[],
        ...(opts['4'] === true && { addressFamily: 'inet' as const }),
        ...(opts['6'] === true && { addressFamily: 'inet6' as const }),
        // Like ssh -G, Match exec runs unless --no-match-exec.
        allowMatchExec: opts.matchExec !== false,
        // Printed like `ssh -G`, which never resolves the ProxyJump hops.
        resolveJumpHosts: false,
      });
      ctx.stdout.write(formatSshG(hc));
    });
}
