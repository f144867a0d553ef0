import type { AuthPrompter } from './auth.js';
import { type ReadPassphraseDeps, readPassphrase } from './read-passphrase.js';

/** Options of `cliAuthPrompter`. */
export interface CliPrompterOptions extends ReadPassphraseDeps {
  /** Where ssh's informational lines go. @default process.stderr */
  stderr?: NodeJS.WritableStream;
  /** `-q`: ssh's LogLevel QUIET drops the informational lines (prompts still appear). @default false */
  quiet?: boolean;
}

/** Password and keyboard-interactive prompts for the CLI: the terminal or SSH_ASKPASS, as ssh. */
export function cliAuthPrompter(options: CliPrompterOptions = {}): AuthPrompter {
  const stderr = options.stderr ?? process.stderr;
  return {
    ask: (prompt, echo) => readPassphrase(prompt, echo, options),
    notice: (text) => {
      if (!options.quiet) stderr.write(`${text}\n`);
    },
  };
}
