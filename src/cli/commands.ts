import type { Command } from 'commander';
import { registerBtrfsCommand } from './btrfs.js';
import { registerCompletionCommand } from './completion.js';
import { registerConfigCommand } from './config.js';
import type { CliContext } from './context.js';
import { registerDoctorCommand } from './doctor.js';
import { registerHashsumCommand } from './hashsum.js';
import { registerPullCommand } from './pull.js';
import { registerPushCommand } from './push.js';
import { registerRunCommand } from './run-many.js';
import { registerVerifyCommand } from './verify.js';

/** One entry per command file in src/cli/: each adds its subcommand to the program. */
const registrations: ((program: Command, ctx: CliContext) => void)[] = [
  registerHashsumCommand,
  registerBtrfsCommand,
  registerVerifyCommand,
  registerPushCommand,
  registerPullCommand,
  registerConfigCommand,
  registerDoctorCommand,
  registerCompletionCommand,
  registerRunCommand,
];

export function registerCommands(program: Command, ctx: CliContext): void {
  for (const register of registrations) register(program, ctx);
}
