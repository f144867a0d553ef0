import type { HostConfig } from '../config/host-config.js';
import { openTty, type PromptIo, ttyPassphrase } from './tty-prompt.js';

/** Supplies the passphrase of an encrypted private key; `undefined` skips the key. */
export type PassphraseSource = (file: string, host: HostConfig) => Promise<string | undefined>;

export interface CliPassphraseOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Opens the terminal to prompt on. @default /dev/tty */
  openTty?: () => PromptIo;
}

/**
 * The CLI's passphrase source: `SSHMUX_PASSPHRASE` when set, else a no-echo prompt on the
 * terminal — never under BatchMode, where the key is skipped, as OpenSSH does.
 */
export function cliPassphraseSource(options: CliPassphraseOptions = {}): PassphraseSource {
  const env = options.env ?? process.env;
  return async (file: string, host: HostConfig) => {
    const fromEnv = env.SSHMUX_PASSPHRASE;
    if (fromEnv !== undefined) return fromEnv;
    if (host.batchMode) return undefined;
    try {
      return await ttyPassphrase(file, options.openTty ?? openTty);
    } catch (err) {
      // No terminal: the key is skipped like any key without a passphrase, unless interrupted.
      if ((err as { kind?: string }).kind === 'aborted') throw err;
      return undefined;
    }
  };
}
