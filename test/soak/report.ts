/** The soak's counters, its result table and the one-line summary. */

/** Operations of the short soak; `LONG_KINDS` are added by `--long`. */
export const BASE_KINDS = [
  'exec',
  'spawn',
  'manifest',
  'push',
  'btrfs-full',
  'btrfs-incr',
  'daemon',
] as const;
export const LONG_KINDS = [
  'forward',
  'forward-cli',
  'scp',
  'push-full',
  'kill-ssh',
  'kill-push',
  'kill-btrfs',
  'kill-daemon',
] as const;
export type OpKind = (typeof BASE_KINDS)[number] | (typeof LONG_KINDS)[number];

export interface OpTally {
  ok: number;
  clean: number;
  dirty: number;
  /** Milliseconds spent in the operations and in their leftover checks, summed. */
  opMs?: number;
  checkMs?: number;
}

/** First and last flat-window figures of one sampled process (see growth.ts). */
export interface GrowthFigure {
  what: string;
  samples: number;
  rssStartMb: number;
  rssEndMb: number;
  /** The anonymous part of RSS (heap, buffers): RSS less the binary's pages touched so far. */
  anonStartMb: number;
  anonEndMb: number;
  fdStart: number;
  fdEnd: number;
  /** Why the figure does not cover the whole run (a replaced pid), or ''. */
  note: string;
}

export interface SoakReport {
  seed: number;
  operations: number;
  faults: {
    cut: number;
    stalled: number;
    slowed: number;
    refused: number;
    refuseWindows: number;
    restarts: number;
    daemonKills: number;
    clientKills: number;
    diskFull: number;
  };
  /** The link emulator's profile, or '' when the proxy talks to sshd directly. */
  link: string;
  succeeded: number;
  failedCleanly: number;
  failedDirty: number;
  leaked: number;
  recoverMs: number[];
  byKind: Partial<Record<OpKind, OpTally>>;
  errorKinds: Record<string, number>;
  /** The first message seen for each error kind, to tell what the clean failures were. */
  examples: Record<string, string>;
  dirty: string[];
  leaks: string[];
  growth: GrowthFigure[];
  /** Growth over the limits (RSS MB, fds), one line each. */
  grew: string[];
  durationMs: number;
}

export function newReport(seed: number, kinds: readonly OpKind[]): SoakReport {
  return {
    seed,
    operations: 0,
    faults: {
      cut: 0,
      stalled: 0,
      slowed: 0,
      refused: 0,
      refuseWindows: 0,
      restarts: 0,
      daemonKills: 0,
      clientKills: 0,
      diskFull: 0,
    },
    link: '',
    succeeded: 0,
    failedCleanly: 0,
    failedDirty: 0,
    leaked: 0,
    recoverMs: [],
    byKind: Object.fromEntries(kinds.map((k) => [k, { ok: 0, clean: 0, dirty: 0 }])),
    errorKinds: {},
    examples: {},
    dirty: [],
    leaks: [],
    growth: [],
    grew: [],
    durationMs: 0,
  };
}

/** Count a clean failure of kind `k` (and keep its first message as the example). */
export function countClean(report: SoakReport, k: string, example: string): void {
  report.errorKinds[k] = (report.errorKinds[k] ?? 0) + 1;
  report.examples[k] ??= example;
}

const mb = (n: number): string => `${n.toFixed(1)} MB`;

function growthLine(g: GrowthFigure): string {
  const d = g.rssEndMb - g.rssStartMb;
  return (
    `RSS ${mb(g.rssStartMb)} → ${mb(g.rssEndMb)} (${d >= 0 ? '+' : ''}${d.toFixed(1)}), ` +
    `anonymous ${mb(g.anonStartMb)} → ${mb(g.anonEndMb)} (${(g.anonEndMb - g.anonStartMb).toFixed(1)}), ` +
    `fds ${g.fdStart} → ${g.fdEnd} (${g.fdEnd - g.fdStart >= 0 ? '+' : ''}${g.fdEnd - g.fdStart}), ` +
    `${g.samples} samples${g.note ? `; ${g.note}` : ''}`
  );
}

/** "soak: seed 1, 10234 operations, 0 dirty, 0 leaked, growth daemon +0.4 MB/+0 fds, …" */
export function summaryLine(r: SoakReport): string {
  const growth = r.growth
    .map((g) => `${g.what} ${(g.rssEndMb - g.rssStartMb).toFixed(1)} MB/${g.fdEnd - g.fdStart} fds`)
    .join(', ');
  return (
    `soak: seed ${r.seed}, ${r.operations} operations, ${r.failedDirty} dirty, ${r.leaked} leaked, ` +
    `growth ${growth || 'not sampled'}${r.grew.length ? ` (OVER LIMIT: ${r.grew.join('; ')})` : ''}`
  );
}

/** The soak's result as a fixed-width table. */
export function formatSoakTable(r: SoakReport): string {
  const rec = [...r.recoverMs].sort((a, b) => a - b);
  const median = rec.length ? rec[Math.floor(rec.length / 2)] : undefined;
  const f = r.faults;
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    ...(r.link ? ([['link emulator', r.link]] as [string, string][]) : []),
    ['operations', String(r.operations)],
    [
      'faults injected',
      `${f.cut + f.stalled + f.slowed + f.refused + f.restarts + f.daemonKills + f.clientKills + f.diskFull} ` +
        `(cut ${f.cut}, stall ${f.stalled}, slow ${f.slowed}, refused ${f.refused} ` +
        `in ${f.refuseWindows} windows, sshd restarts ${f.restarts}` +
        (r.link
          ? `, daemon SIGKILLs ${f.daemonKills}, client SIGKILLs ${f.clientKills}, disk-full pushes ${f.diskFull}`
          : '') +
        ')',
    ],
    ['succeeded (verified)', String(r.succeeded)],
    ['failed cleanly', `${r.failedCleanly} ${JSON.stringify(r.errorKinds)}`],
    ['failed dirty', String(r.failedDirty)],
    ['leaked', String(r.leaked)],
    [
      'recovery after sshd restart',
      median === undefined ? 'n/a' : `median ${median} ms, max ${rec.at(-1)} ms (${rec.length} restarts)`,
    ],
    ...r.growth.map((g): [string, string] => [`growth: ${g.what}`, growthLine(g)]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length), ...Object.keys(r.byKind).map((k) => k.length));
  const lines = rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v}`);
  const kinds = Object.entries(r.byKind)
    .filter(([, t]) => t.ok + t.clean + t.dirty > 0)
    .map(([k, t]) => {
      const n = t.ok + t.clean + t.dirty;
      const ms =
        t.opMs === undefined
          ? ''
          : `; mean ${Math.round(t.opMs / n)} ms + check ${Math.round((t.checkMs ?? 0) / n)} ms`;
      return `| ${k.padEnd(w)} | ok ${t.ok}, failed cleanly ${t.clean}, dirty ${t.dirty}${ms}`;
    });
  const detail = [
    ...r.dirty.map((d) => `dirty: ${d}`),
    ...r.leaks.map((l) => `leak: ${l}`),
    ...r.grew.map((g) => `growth over limit: ${g}`),
  ];
  return [...lines, `|${'-'.repeat(w + 2)}|`, ...kinds, ...detail].join('\n');
}
