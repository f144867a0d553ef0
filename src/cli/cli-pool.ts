import type { Command } from 'commander';
import { parseOptionArg } from '../config/option-arg.js';
import { defaultResolver } from '../pool/default-resolver.js';
import { SshPool } from '../pool/ssh-pool.js';
import { createAuthProvider } from '../security/auth.js';
import { cliAuthPrompter } from '../security/cli-prompter.js';
import { cliPassphraseSource } from '../security/passphrase.js';
import { ttyHostKeyPrompt } from '../security/tty-prompt.js';
import { createHostKeyVerifier } from '../security/verify-host-key.js';
import type { CliContext } from './context.js';

/** scp-style connection flags shared by the commands that take `dest:PATH`. */
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

/**
 * The pool a CLI command runs on. ssh_config resolution honours `-F`, `-o` and `-i`; an
 * unknown host key under `ask`, an encrypted key, passwords and keyboard-interactive questions
 * are asked on the controlling terminal (or SSH_ASKPASS; never under BatchMode), as OpenSSH does.
 */
export function cliPool(ctx: CliContext, flags: SshFlags = {}): SshPool {
  return new SshPool({
    logger: ctx.logger,
    hostKeyVerifier: createHostKeyVerifier({ prompt: ttyHostKeyPrompt(), logger: ctx.logger }),
    authProvider: createAuthProvider({
      passphrase: cliPassphraseSource(),
      prompter: cliAuthPrompter({ stderr: ctx.stderr }),
      logger: ctx.logger,
    }),
    resolve: defaultResolver({
      ...(flags.F !== undefined && { configFile: flags.F }),
      overrides: (flags.o ?? []).map(parseOptionArg),
      identityFiles: flags.i ?? [],
    }),
  });
}
