import { median, pairedRatio } from './stats.js';
import type { Better, Ctx, Row, SideResult, Target } from './types.js';

/** One round's measurement of one side. */
export interface Sample {
  value: number;
  success?: string;
  logins?: number;
  cpuPerGiB?: number;
}

export interface SideSpec {
  label: string;
  /** When set the side is not run and the row says "not measured: <reason>". */
  notMeasured?: string | undefined;
  /**
   * WAN profile: the bytes this side must have moved through the link emulator per round (up plus
   * down); a round below it fails, so a row can never silently measure loopback. @default 1
   */
  minLinkBytes?: number;
  /** A round taking longer fails (its signal is aborted first). @default 180000 */
  timeoutMs?: number;
  run(round: number, signal: AbortSignal): Promise<Sample>;
}

/**
 * Run one round with a deadline: abort its signal at the deadline, then give it 15 s to
 * unwind before abandoning it, so one hung operation cannot stall the whole bench.
 */
async function runWithDeadline(spec: SideSpec, round: number): Promise<Sample> {
  const timeoutMs = spec.timeoutMs ?? 180_000;
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s`));
      setTimeout(() => reject(ac.signal.reason), 15_000).unref();
    }, timeoutMs);
  });
  const work = spec.run(round, ac.signal);
  try {
    const sample = await Promise.race([work, expired]);
    if (ac.signal.aborted) throw ac.signal.reason;
    return sample;
  } catch (err) {
    throw ac.signal.aborted ? ac.signal.reason : err;
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

function errorText(err: unknown): string {
  const e = err as Error & { code?: string };
  return `${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(err)}`.split('\n')[0]!.slice(0, 200);
}

/** `runWithDeadline`, and with a link emulator, the check that the round crossed it. */
async function runRound(ctx: Ctx, spec: SideSpec, round: number): Promise<Sample> {
  const link = ctx.link;
  if (!link) return runWithDeadline(spec, round);
  const before = await link.counts();
  const sample = await runWithDeadline(spec, round);
  const after = await link.counts();
  const moved = after.up - before.up + (after.down - before.down);
  const min = spec.minLinkBytes ?? 1;
  if (moved < min) {
    throw new Error(
      `${spec.label} moved ${moved} bytes through the link emulator (expected ≥ ${min}): it did not cross the emulated link`,
    );
  }
  return sample;
}

/**
 * Run the sides in turn for `rounds` rounds, rotating which goes first each round so none
 * always runs on a warmer cache. The first side is sshmux: its failure is a result
 * ("failed: …"). Any other side is OpenSSH: its failure means the bench is broken and throws.
 */
export async function alternateMany(
  ctx: Ctx,
  name: string,
  rounds: number,
  specs: SideSpec[],
): Promise<SideResult[]> {
  const out = specs.map((spec) => {
    const res: SideResult = { label: spec.label, values: [], successes: [], logins: [], cpuPerGiB: [] };
    if (spec.notMeasured) res.notMeasured = spec.notMeasured;
    return res;
  });
  const failures: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < specs.length; k++) {
      const i = (k + round) % specs.length;
      const spec = specs[i]!;
      const res = out[i]!;
      if (res.notMeasured) continue;
      let sample: Sample;
      try {
        sample = await runRound(ctx, spec, round);
      } catch (err) {
        if (i !== 0) throw err;
        // An sshmux failure is a result: note it and keep going, the next round may succeed.
        failures.push(errorText(err));
        ctx.log(`  ${name} round ${round + 1}/${rounds} ${spec.label}: FAILED ${errorText(err)}`);
        continue;
      }
      res.values.push(sample.value);
      if (sample.success !== undefined) res.successes!.push(sample.success);
      if (sample.logins !== undefined) res.logins!.push(sample.logins);
      if (sample.cpuPerGiB !== undefined) res.cpuPerGiB!.push(sample.cpuPerGiB);
      ctx.log(
        `  ${name} round ${round + 1}/${rounds} ${spec.label}: ${sample.value.toFixed(2)}` +
          (sample.success ? ` ok ${sample.success}` : '') +
          (sample.logins !== undefined ? ` logins ${sample.logins}` : '') +
          (sample.cpuPerGiB !== undefined ? ` cpu ${sample.cpuPerGiB.toFixed(2)} s/GiB` : ''),
      );
    }
  }
  const first = out[0]!;
  if (failures.length > 0 && !first.notMeasured) {
    const what = `${failures.length} of ${rounds} rounds failed: ${failures[0]}`;
    if (first.values.length === 0) first.notMeasured = `failed: ${what}`;
    else first.note = first.note ? `${first.note}; ${what}` : what;
  }
  for (const res of out) {
    if (res.successes?.length === 0) delete res.successes;
    if (res.logins?.length === 0) delete res.logins;
    if (res.cpuPerGiB?.length === 0) delete res.cpuPerGiB;
  }
  return out;
}

/** `alternateMany` for one sshmux side against one OpenSSH side. */
export async function alternate(
  ctx: Ctx,
  name: string,
  rounds: number,
  sshmux: SideSpec,
  openssh: SideSpec,
): Promise<{ sshmux: SideResult; openssh: SideResult }> {
  const [a, b] = await alternateMany(ctx, name, rounds, [sshmux, openssh]);
  return { sshmux: a!, openssh: b! };
}

/** A row not run at all (both sides), with the reason. */
export function skippedSide(label: string, reason: string): SideResult {
  return { label, values: [], notMeasured: reason };
}

export function sideMedian(side: SideResult): number | null {
  return side.notMeasured || side.values.length === 0 ? null : median(side.values);
}

export interface RowSpec {
  id: string;
  group: string;
  title: string;
  unit: string;
  better: Better;
  sshmux: SideResult;
  openssh: SideResult;
  target?: (row: Row) => Target;
}

export function makeRow(spec: RowSpec): Row {
  const ratio =
    spec.sshmux.notMeasured || spec.openssh.notMeasured
      ? null
      : pairedRatio(spec.sshmux.values, spec.openssh.values);
  const row: Row = {
    id: spec.id,
    group: spec.group,
    title: spec.title,
    unit: spec.unit,
    better: spec.better,
    sshmux: spec.sshmux,
    openssh: spec.openssh,
    ratio,
  };
  if (spec.target) row.target = spec.target(row);
  return row;
}

/** A target on the ratio alone: `ratio <= limit` (lower is better) or `ratio >= limit`. */
export function ratioTarget(text: string, limit: number): (row: Row) => Target {
  return (row) => ({
    text,
    met: row.ratio === null ? null : row.better === 'lower' ? row.ratio <= limit : row.ratio >= limit,
  });
}

/** Count new logins for `backup` across `fn`. */
export async function countingLogins<T>(
  ctx: Ctx,
  fn: () => Promise<T>,
): Promise<{ result: T; logins: number }> {
  const before = await ctx.sshd.countLogins('backup');
  const result = await fn();
  // sshd writes the log line before the session starts, but give tee a moment to flush it.
  await new Promise((r) => setTimeout(r, 50));
  const after = await ctx.sshd.countLogins('backup');
  return { result, logins: after - before };
}

/** CPU seconds (user+sys) of this process across `fn`. */
export async function measuringCpu<T>(fn: () => Promise<T>): Promise<{ result: T; cpuSec: number }> {
  const before = process.cpuUsage();
  const result = await fn();
  const d = process.cpuUsage(before);
  return { result, cpuSec: (d.user + d.system) / 1e6 };
}

/** `/usr/bin/time -f '%U %S'` output (the last such line of stderr) → CPU seconds. */
export function timeCpu(stderr: string): number | undefined {
  const m = /^CPU (\d+\.\d+) (\d+\.\d+)$/m.exec(stderr);
  return m ? Number(m[1]) + Number(m[2]) : undefined;
}

/** Wrap a command so GNU time reports its CPU on stderr as `CPU <user> <sys>`. */
export const TIME_CPU = "/usr/bin/time -f 'CPU %U %S'";

/**
 * The row's target: on loopback the scenario's own, in the WAN profile the issue's "ahead of
 * <what>" (sshmux strictly better than that OpenSSH way, ratio past 1.0).
 */
export function wanOr(
  ctx: Ctx,
  what: string,
  loopback?: (row: Row) => Target,
): ((row: Row) => Target) | undefined {
  if (!ctx.link) return loopback;
  return (row) => ({
    text: `ahead of ${what}`,
    met: row.ratio === null ? null : row.better === 'lower' ? row.ratio < 1 : row.ratio > 1,
  });
}
