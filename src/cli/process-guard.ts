// No imports but Node's own and a leaf module: this runs before any other code of the CLI or the
// daemon, so that no signal can reach Node's default handlers while the rest loads.
import { createRequire } from 'node:module';
import { dieBySignal } from '../death-hooks.js';

export { dieBySignal, onDeathBySignal } from '../death-hooks.js';

/**
 * Signals whose default action ends ssh (so it must end us too, by the same signal), but whose
 * default in Node is something else or skips our clean-up. SIGUSR1 is the one that matters:
 * Node's default opens the inspector on 127.0.0.1:9229, where any local user could attach and
 * run code as this user, with their keys and agent.
 */
const GUARDED: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', 'SIGALRM'];

/** Inspector flags Node honours in NODE_OPTIONS. */
const INSPECT_FLAG = /^--(inspect(-brk|-wait)?|inspect-port|debug-port|inspect-publish-uid)(=.*)?$/;

/** NODE_OPTIONS without its inspector flags (space-separated words, as Node splits it). */
export function withoutInspectFlags(nodeOptions: string): string {
  return nodeOptions
    .split(/\s+/)
    .filter((w) => w !== '' && !INSPECT_FLAG.test(w))
    .join(' ');
}

/**
 * Make the process unreachable by debuggers before anything else runs: SIGUSR1 (and the other
 * signals in GUARDED) end it as they end ssh instead of opening the inspector, an inspector that
 * an inherited NODE_OPTIONS opened is closed, and children (the daemon, ProxyCommand, Match exec)
 * do not inherit those flags. `node --inspect` given explicitly on the command line is left alone:
 * that is a developer asking for it, not an environment handed down.
 */
export function guardProcess(
  proc: Pick<NodeJS.Process, 'env' | 'platform' | 'on' | 'stderr'> = process,
): void {
  if (proc.platform !== 'win32') {
    for (const signal of GUARDED) proc.on(signal, () => dieBySignal(signal));
  }
  const inherited = proc.env.NODE_OPTIONS;
  if (inherited === undefined || !/--(inspect|debug-port)/.test(inherited)) return;
  proc.env.NODE_OPTIONS = withoutInspectFlags(inherited);
  const inspector = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
  if (inspector.url() !== undefined) {
    inspector.close();
    proc.stderr.write('sshmux: closed the Node inspector that NODE_OPTIONS opened; it is never left open\n');
  }
}
