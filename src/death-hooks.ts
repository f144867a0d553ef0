// A leaf module with no imports: the CLI's process guard loads it before anything else, and any
// layer may register here what must happen before the process dies of a signal.

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
