/**
 * Leaving without waiting for queued output. A session we left first (a signal, EPIPE, `~.`)
 * ends as ssh's cleanup_exit() ends it: at once. Node would otherwise stay alive for as long as
 * a write to a stdout pipe nobody reads is pending, so a SIGTERM could never end `sshmux ssh`
 * whose reader stalled.
 */
let requested = false;

/** Ask that the process exit as soon as the command returns its status. */
export function exitWhenDone(): void {
  requested = true;
}

/** Set the exit status; exit now if a command asked for it. */
export function finishWith(
  code: number,
  proc: Pick<NodeJS.Process, 'exit'> & { exitCode?: number | string | null | undefined } = process,
): void {
  proc.exitCode = code;
  if (requested) proc.exit(code);
}
