/** The CLI's body, loaded by main.ts once the process is guarded. */
import { isSshmuxError } from '../errors.js';
import { cliLogger } from '../logger.js';
import type { CliContext } from './context.js';
import { finishWith } from './exit-now.js';
import { VERSION, versionText } from './version.js';

/** Global flags that may appear before the command: `-v`/`-vv`, `--log-json`. */
function globalFlags(argv: string[]): { verbosity: number; logJson: boolean; rest: string[] } {
  let verbosity = 0;
  let logJson = false;
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^-v+$/.test(a)) verbosity += a.length - 1;
    else if (a === '--verbose') verbosity++;
    else if (a === '--log-json') logJson = true;
    else break;
  }
  rest.push(...argv.slice(i));
  return { verbosity, logJson, rest };
}

async function main(argv: string[]): Promise<number> {
  const { verbosity, logJson, rest } = globalFlags(argv);
  if (rest[0] === '--version' || rest[0] === '-V') {
    const v =
      verbosity +
      rest
        .slice(1)
        .filter((a) => /^-v+$/.test(a))
        .reduce((n, a) => n + a.length - 1, 0);
    process.stdout.write(versionText(v > 0));
    return 0;
  }
  const ctx: CliContext = {
    logger: cliLogger({ verbosity, json: logJson }),
    stdout: process.stdout,
    stderr: process.stderr,
    verbosity,
    logJson,
  };
  // `sshmux ssh` takes OpenSSH's grammar (options end at the destination), which commander cannot express.
  // It is also what git starts for every fetch: load only what it needs.
  if (rest[0] === 'ssh') return (await import('./ssh.js')).runSshCli(rest.slice(1), ctx);
  // scp's getopt grammar too (options end at the first operand).
  if (rest[0] === 'scp') return (await import('./scp.js')).runScpCli(rest.slice(1), ctx);
  if (rest[0] === 'sftp') return (await import('./sftp.js')).runSftpCli(rest.slice(1), ctx);

  const [{ Command, CommanderError }, { registerCommands }] = await Promise.all([
    import('commander'),
    import('./commands.js'),
  ]);

  const program = new Command('sshmux')
    .description('Pure-JavaScript SSH toolkit: pooled connections, btrfs replication, manifests, push.')
    .version(VERSION, '-V, --version')
    .option('-v, --verbose', 'more logs on stderr (-vv for debug)')
    .option('--log-json', 'logs as JSON lines')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  program.command('ssh').description('OpenSSH-compatible client: sshmux ssh [options] dest [command...]');
  program.command('sftp').description('OpenSSH sftp: sshmux sftp [-b batchfile] [-P port] ... destination');
  program
    .command('scp')
    .description(
      "OpenSSH scp's SFTP mode: sshmux scp [-346BCpqrv] [-P port] [-l limit] ... source ... target",
    );
  registerCommands(program, ctx);
  try {
    await program.parseAsync(rest, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => finishWith(code),
  (err: unknown) => {
    const msg = isSshmuxError(err)
      ? `sshmux: ${err.message}`
      : `sshmux: ${(err as Error)?.stack ?? String(err)}`;
    process.stderr.write(`${msg}\n`);
    process.exitCode = isSshmuxError(err) && err.kind === 'verify' ? 1 : 2;
  },
);
