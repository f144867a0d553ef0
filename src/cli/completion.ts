import { type Command, Option } from 'commander';
import { hostAliases } from '../config/host-aliases.js';
import { ConfigError } from '../errors.js';
import { completeWords, formatCompletion } from './completion-engine.js';
import { completionScript, SHELLS, type Shell } from './completion-scripts.js';
import { commandSpec } from './completion-spec.js';
import type { CliContext } from './context.js';
import { VERSION } from './version.js';

/**
 * `sshmux completion bash|zsh|fish|powershell` prints the script; the script calls back
 * `sshmux completion --complete -- WORDS…` at TAB time; `--hosts` lists ssh_config's host aliases.
 */
export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: sshmux completion bash|zsh|fish|powershell')
    .argument('[shell-or-words...]', `one of ${SHELLS.join(', ')}`)
    .option('--hosts', "list ssh_config's host aliases (Host names without wildcards), Includes followed")
    .option('-F <file>', 'with --hosts: this configuration file instead of ~/.ssh/config and the system one')
    .addOption(
      new Option('--complete', 'the candidates for the last word (what the scripts call)').hideHelp(),
    )
    .addOption(
      new Option('--current <word>', 'with --complete: the word being completed, after `=`').hideHelp(),
    )
    .action((args: string[], opts: Record<string, unknown>, cmd: Command) => {
      const configFile = typeof opts.F === 'string' ? opts.F : undefined;
      if (opts.hosts === true) {
        if (args.length > 0)
          throw new ConfigError(`sshmux completion --hosts takes no operands, got \`${args[0]}\``);
        const hosts = hostAliases({ configFile });
        ctx.stdout.write(hosts.length > 0 ? `${hosts.join('\n')}\n` : '');
        return;
      }
      if (opts.complete === true) {
        const words =
          typeof opts.current === 'string'
            ? [...args, opts.current.replace(/^=/, '')]
            : args.length > 0
              ? args
              : [''];
        const root = commandSpec(cmd.parent ?? cmd);
        const result = completeWords(root, words, (file) => {
          try {
            return hostAliases({ configFile: file ?? configFile });
          } catch {
            return [];
          }
        });
        ctx.stdout.write(formatCompletion(result));
        return;
      }
      if (opts.current !== undefined)
        throw new ConfigError('sshmux completion: --current goes with --complete');
      if (configFile !== undefined) throw new ConfigError('sshmux completion: -F goes with --hosts');
      const shell = args[0];
      if (args.length !== 1 || !SHELLS.includes(shell as Shell)) {
        throw new ConfigError(
          `sshmux completion: expected one shell (${SHELLS.join(', ')}), got ${args.length === 0 ? 'none' : `\`${args.join(' ')}\``}`,
        );
      }
      ctx.stdout.write(completionScript(shell as Shell, VERSION));
    });
}
