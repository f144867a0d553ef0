import { setTimeout as sleep } from 'node:timers/promises';
import { dieBySignal } from './process-guard.js';
import type { RunningSession } from './ssh-direct.js';

/** The signals the process guard turns into a death by that signal (SIGUSR1 first: rsync's). */
const FATAL: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2', 'SIGALRM'];

/** How long a dying session may wait for output that already left the server. */
const LINGER_MS = 250;

/**
 * During a session, SIGUSR1, SIGUSR2 and SIGALRM still end us by that signal, as they end ssh,
 * but first let the session's output that is on its way arrive (its end, or at most 250 ms).
 * rsync sends SIGUSR1 to its -e child the moment the remote reports an error in-band; the
 * remote's message is on the session's stderr, a step behind through the daemon, and ssh, one
 * hop from the server, has usually written it by then. Returns the function that puts the
 * process guard's handlers back.
 */
export function lingerOnFatalSignals(session: Pick<RunningSession, 'exited'>): () => void {
  if (process.platform === 'win32') return () => {};
  const saved = FATAL.map((s) => [s, process.listeners(s)] as const);
  const onSignal = (name: NodeJS.Signals): void => {
    void Promise.race([
      session.exited.then(
        () => undefined,
        () => undefined,
      ),
      sleep(LINGER_MS),
    ]).then(() => dieBySignal(name));
  };
  for (const s of FATAL) process.on(s, onSignal);
  for (const [s, listeners] of saved) for (const l of listeners) process.off(s, l as () => void);
  return () => {
    for (const s of FATAL) process.off(s, onSignal);
    for (const [s, listeners] of saved) for (const l of listeners) process.on(s, l as () => void);
  };
}
