/** The longest delay `setTimeout` honours; past it Node fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * An unref'ed timer for "stay warm for `ms`" durations. ControlPersist `yes` resolves to
 * Infinity and long persists (days) overflow a timer, which Node would fire at once: a
 * duration no timer can hold means "forever", so no timer is set and undefined returned.
 */
export function persistTimer(ms: number, fn: () => void): NodeJS.Timeout | undefined {
  if (!(ms <= MAX_TIMER_MS)) return undefined;
  const timer = setTimeout(fn, ms);
  timer.unref();
  return timer;
}
