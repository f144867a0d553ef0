// A leaf module (Node's own imports only): the CLI's process guard loads it before anything else,
// and any layer may register here what must happen before the process dies of a signal.
import { constants } from 'node:os';

/** Run synchronously, newest first, just before the process dies of a signal. */
const hooks: (() => void)[] = [];

/**
 * Register clean-up for a death by signal (restore the terminal, end a child process): 'exit'
 * listeners do not run then. Returns a function that removes the hook.
 */
export function onDeathBySignal(hook: () => void): () => void {
  hooks.push(hook);
  return () => {
    const i = hooks.lastIndexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

/** Run and forget every hook (the process guard calls this just before re-raising the signal). */
export function runDeathHooks(): void {
  for (const hook of hooks.splice(0).reverse()) {
    try {
      hook();
    } catch {
      // Dying anyway: one failed clean-up must not keep the others from running.
    }
  }
}

/**
 * End the process as the default action of `signal` would, after the clean-up hooks: the parent
 * sees "killed by signal" (128+n in a shell), as with ssh.
 */
export function dieBySignal(signal: NodeJS.Signals): void {
  runDeathHooks();
  // With no listener left, libuv puts the default disposition back, and the signal is delivered
  // again, this time with its default action.
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // Platforms where that does not end us (Windows emulates few signals): the shell's status.
  setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 200).unref();
}

/**
 * What a Ctrl-C typed at a raw-mode prompt means: the SIGINT the terminal would have sent outside
 * raw mode, delivered now (a real signal would arrive only after the prompt's rejection has
 * unwound). Listeners run at once; with none, the process dies of SIGINT, its default action.
 */
export function interruptAsTerminalWould(): void {
  if (process.listenerCount('SIGINT') > 0) {
    (process.emit as (event: string, ...args: unknown[]) => boolean)('SIGINT', 'SIGINT');
  } else dieBySignal('SIGINT');
}
