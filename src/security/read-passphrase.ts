import { DEFAULT_ASKPASS, runAskpass } from './askpass.js';
import { openTty, type PromptIo, readLine } from './tty-prompt.js';

/** What readPassphrase talks to; injected in tests. */
export interface ReadPassphraseDeps {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Opens the controlling terminal; throws when there is none. @default /dev/tty */
  openTty?: () => PromptIo;
  /** @default runAskpass */
  askpass?: (program: string, prompt: string) => Promise<string | undefined>;
}

/**
 * Ask one secret (or, with `echo`, visible) question the way OpenSSH 9.2's read_passphrase()
 * does with no flags: on the controlling terminal, or through SSH_ASKPASS when there is no
 * terminal and DISPLAY is set, or always with SSH_ASKPASS_REQUIRE=force (`prefer` uses it
 * when DISPLAY is set, `never` never). With neither, the answer is empty, as ssh's is.
 * Ctrl-C on the terminal rejects with an AbortedError.
 */
export async function readPassphrase(
  prompt: string,
  echo: boolean,
  deps: ReadPassphraseDeps = {},
): Promise<string> {
  const env = deps.env ?? process.env;
  let allowAskpass = (env.DISPLAY ?? '') !== '';
  let useAskpass = false;
  const require = env.SSH_ASKPASS_REQUIRE?.toLowerCase();
  if (require === 'force') {
    useAskpass = true;
    allowAskpass = true;
  } else if (require === 'prefer') {
    useAskpass = allowAskpass;
  } else if (require === 'never') {
    allowAskpass = false;
  }
  let io: PromptIo | undefined;
  if (!useAskpass) {
    try {
      io = (deps.openTty ?? openTty)();
    } catch {
      useAskpass = true;
    }
  }
  if (useAskpass && allowAskpass) {
    io?.close?.();
    const program = env.SSH_ASKPASS || DEFAULT_ASKPASS;
    return (await (deps.askpass ?? runAskpass)(program, prompt)) ?? '';
  }
  if (!io) return '';
  try {
    // A carriage return first, as ssh writes, so the prompt starts the line and hides type-ahead.
    io.output.write('\r');
    return (await readLine(io, prompt, echo)) ?? '';
  } finally {
    io.close?.();
  }
}

/** Whether readPassphrase may use SSH_ASKPASS when there is no terminal (DISPLAY, SSH_ASKPASS_REQUIRE). */
export function askpassAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const require = env.SSH_ASKPASS_REQUIRE?.toLowerCase();
  return require === 'force' || (require !== 'never' && (env.DISPLAY ?? '') !== '');
}
