import type { HostConfig } from '../config/host-config.js';
import { type ReadPassphraseDeps, readPassphrase } from './read-passphrase.js';
import type { PromptIo } from './tty-prompt.js';

/** Supplies the passphrase of an encrypted private key; `undefined` skips the key. */
export type PassphraseSource = (file: string, host: HostConfig) => Promise<string | undefined>;

/** Options of `cliPassphraseSource`. */
export interface CliPassphraseOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Opens the terminal to prompt on. @default /dev/tty */
  openTty?: () => PromptIo;
  /** Runs SSH_ASKPASS. @default runAskpass */
  askpass?: ReadPassphraseDeps['askpass'];
}

/**
 * The CLI's passphrase source: `SSHMUX_PASSPHRASE` when set, else ssh's prompt (terminal, or
 * SSH_ASKPASS by its rules) — never under BatchMode. An empty answer skips the key, as in ssh.
 */
export function cliPassphraseSource(options: CliPassphraseOptions = {}): PassphraseSource {
  const env = options.env ?? process.env;
  return async (file: string, host: HostConfig) => {
    const fromEnv = env.SSHMUX_PASSPHRASE;
    if (fromEnv !== undefined) return fromEnv;
    if (host.batchMode) return undefined;
    const answer = await readPassphrase(`Enter passphrase for key '${file}': `, false, {
      env,
      ...(options.openTty && { openTty: options.openTty }),
      ...(options.askpass && { askpass: options.askpass }),
    });
    return answer === '' ? undefined : answer;
  };
}
