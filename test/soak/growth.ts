import { readdirSync, readFileSync } from 'node:fs';
import type { GrowthFigure } from './report.js';

/**
 * RSS and its anonymous part (MB, /proc/PID/status VmRSS and RssAnon) and open fds (entries of
 * /proc/PID/fd) of `pid`, or undefined once it is gone. RSS also counts the pages of the node
 * binary a process has touched so far, which grow as code paths run for the first time; RssAnon
 * is the heap and buffers alone.
 */
export function sampleProcess(pid: number): { rssMb: number; anonMb: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const rss = kb('VmRSS');
    return Number.isFinite(rss) ? { rssMb: rss / 1024, anonMb: kb('RssAnon') / 1024, fds } : undefined;
  } catch {
    return undefined;
  }
}

interface Sample {
  t: number;
  rssMb: number;
  anonMb: number;
  fds: number;
}

/** Samples averaged at each end: one sample is noise (a GC, a late close), three are a level. */
const EDGE = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/**
 * RSS and fds of one process, sampled at the soak's quiet points (nothing in flight, every proxied
 * connection reset): samples before `warmupMs` are dropped, and the figure compares the median of
 * the first three samples after warm-up with the median of the last three. When the pid changes
 * (a daemon restarted), the series starts again and the figure says so.
 */
export class GrowthSeries {
  #samples: Sample[] = [];
  #pid: number | undefined;
  #replaced = 0;

  constructor(
    readonly what: string,
    private readonly warmupMs: number,
  ) {}

  /** Sample `pid` now; `elapsedMs` is the time since the soak started. */
  add(pid: number | undefined, elapsedMs: number): void {
    if (pid === undefined || elapsedMs < this.warmupMs) return;
    const s = sampleProcess(pid);
    if (!s) return;
    if (this.#pid !== undefined && pid !== this.#pid) {
      this.#replaced++;
      this.#samples = [];
    }
    this.#pid = pid;
    this.#samples.push({ t: elapsedMs, ...s });
  }

  figure(): GrowthFigure {
    const xs = this.#samples;
    const head = xs.slice(0, EDGE);
    const tail = xs.slice(-EDGE);
    const notes: string[] = [];
    if (this.#replaced > 0)
      notes.push(
        `pid replaced ${this.#replaced}×; figures cover the last one, from ${Math.round((xs[0]?.t ?? 0) / 1000)} s`,
      );
    if (xs.length < 2 * EDGE) notes.push(`only ${xs.length} samples after warm-up`);
    return {
      what: this.what,
      samples: xs.length,
      rssStartMb: median(head.map((s) => s.rssMb)),
      rssEndMb: median(tail.map((s) => s.rssMb)),
      anonStartMb: median(head.map((s) => s.anonMb)),
      anonEndMb: median(tail.map((s) => s.anonMb)),
      fdStart: median(head.map((s) => s.fds)),
      fdEnd: median(tail.map((s) => s.fds)),
      note: notes.join('; '),
    };
  }
}

/** Lines naming what grew past the limits (RSS MB, fds); empty when flat. */
export function overLimit(g: GrowthFigure, limits: { rssMb: number; fds: number }): string[] {
  const out: string[] = [];
  if (g.samples < 2 * EDGE) out.push(`${g.what}: ${g.samples} samples after warm-up, too few to tell growth`);
  const rss = g.rssEndMb - g.rssStartMb;
  if (rss > limits.rssMb) out.push(`${g.what}: RSS grew ${rss.toFixed(1)} MB (limit ${limits.rssMb})`);
  const fds = g.fdEnd - g.fdStart;
  if (fds > limits.fds) out.push(`${g.what}: fds grew by ${fds} (limit ${limits.fds})`);
  return out;
}
