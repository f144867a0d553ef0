import type { SshPool } from '../../src/index.js';
import { isClassified } from './checks.js';
import { leftovers } from './leftovers.js';
import { CliFailed, type OpContext, type Operation } from './ops.js';
import { countClean, type OpKind, type SoakReport } from './report.js';

/** An operation still unsettled after this is dirty (a hang), whatever the load. */
export const OP_DEADLINE_MS = 150_000;

/**
 * Run operation `n` and its leftover check, and count it: ok (verified), clean (classified
 * failure, nothing left behind) or dirty (anything else, with the reason).
 */
export async function runOne(
  ctx: OpContext & { pool: SshPool },
  report: SoakReport,
  kind: OpKind,
  n: number,
  op: Operation,
  log: (line: string) => void,
): Promise<void> {
  let verdict: 'ok' | 'clean' | 'dirty';
  let why = '';
  let timer: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HungOperation(kind)), OP_DEADLINE_MS);
    });
    const problem = await Promise.race([op(n), deadline]);
    verdict = problem === '' ? 'ok' : 'dirty';
    why = problem;
  } catch (err) {
    if (err instanceof HungOperation) {
      verdict = 'dirty';
      why = `${err.message}; pool ${JSON.stringify(ctx.pool.stats())}`;
    } else if (err instanceof CliFailed || isClassified(err)) {
      verdict = 'clean';
      const k = err instanceof CliFailed ? err.kind : (err as { kind: string }).kind;
      const first = (err as Error).message.split('\n')[0];
      countClean(report, k, `${kind}: ${first}`);
      log(`#${n} ${kind} failed cleanly: ${k}: ${first}`);
    } else {
      verdict = 'dirty';
      why = `unclassified ${(err as Error)?.name}: ${(err as Error)?.message}`;
    }
  } finally {
    clearTimeout(timer);
  }
  const t1 = Date.now();
  const left = await within(90_000, 'leftover check', leftovers(ctx, kind, n)).catch((err: Error) => [
    err.message,
  ]);
  if (left.length > 0) {
    verdict = 'dirty';
    why = [why, ...left].filter(Boolean).join('; ');
  }
  if (verdict === 'ok') report.succeeded++;
  else if (verdict === 'clean') report.failedCleanly++;
  else {
    report.failedDirty++;
    report.dirty.push(`#${n} ${kind}: ${why}`);
    log(`#${n} ${kind} DIRTY: ${why}`);
  }
  const tally = report.byKind[kind];
  if (tally) {
    tally[verdict]++;
    tally.opMs = (tally.opMs ?? 0) + (t1 - t0);
    tally.checkMs = (tally.checkMs ?? 0) + (Date.now() - t1);
  }
}

/** `p`, or a rejection naming `what` once `ms` pass: no step of the soak may hang it. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

class HungOperation extends Error {
  constructor(kind: string) {
    super(`${kind} did not settle within ${OP_DEADLINE_MS} ms`);
  }
}
