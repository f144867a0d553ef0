import { isSshmuxError } from '../../../src/errors.js';
import { KINDS } from '../../helpers/error-kinds.js';

/** Per-call budget: a parser that takes longer on a small input is treated as hanging. */
export const CALL_BUDGET_MS = 1_000;

function check(err: unknown, what: string): void {
  if (!isSshmuxError(err) || !KINDS.has(err.kind)) {
    const e = err as Error | undefined;
    throw new Error(`${what} threw an unclassified ${e?.name ?? typeof err}: ${e?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

function timed(started: number, what: string): void {
  const ms = performance.now() - started;
  if (ms > CALL_BUDGET_MS) throw new Error(`${what} took ${ms.toFixed(0)} ms (budget ${CALL_BUDGET_MS} ms)`);
}

/** Run `fn`: its value, or the classified SshmuxError it threw; anything else (or too slow) fails. */
export function classified<T>(
  what: string,
  fn: () => T,
): { ok: true; value: T } | { ok: false; error: Error } {
  const started = performance.now();
  try {
    const value = fn();
    timed(started, what);
    return { ok: true, value };
  } catch (err) {
    check(err, what);
    timed(started, what);
    return { ok: false, error: err as Error };
  }
}

/** Async `classified`, with a hard deadline so a hang fails the property instead of the test timeout. */
export async function classifiedAsync<T>(
  what: string,
  fn: () => Promise<T>,
  budgetMs = CALL_BUDGET_MS * 3,
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${budgetMs} ms`)), budgetMs);
  });
  try {
    const value = await Promise.race([fn(), deadline]);
    return { ok: true, value };
  } catch (err) {
    if ((err as Error).message?.endsWith(`within ${budgetMs} ms`)) throw err;
    check(err, what);
    return { ok: false, error: err as Error };
  } finally {
    clearTimeout(timer);
  }
}

/** Split `buf` at the given cut points (any numbers; taken modulo the length, sorted, deduplicated). */
export function chunked(buf: Buffer, cuts: readonly number[]): Buffer[] {
  if (buf.length === 0) return [buf];
  const points = [...new Set(cuts.map((c) => c % buf.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(buf.subarray(at, p));
    at = p;
  }
  out.push(buf.subarray(at));
  return out;
}
