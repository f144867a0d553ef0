import os from 'node:os';
import { median } from './stats.js';
import type { Row, SideResult } from './types.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  nativeBinding: boolean;
  sshmuxVersion: string;
  openssh: string;
  note: string;
}

/** The WAN profile's section: the same scenarios through the link emulator. */
export interface WanSection {
  /** "RTT 40 ms, 100/100 Mbit/s". */
  profile: string;
  durationSec: number;
  /** Bytes the emulator carried over the whole section, and connections. */
  linkCounts: { accepted: number; up: number; down: number };
  sizes: Record<string, unknown>;
  rows: Row[];
}

export interface Report {
  date: string;
  mode: 'full' | 'quick';
  durationSec: number;
  machine: Machine;
  sizes: Record<string, unknown>;
  rows: Row[];
  /** Harness failures (the run exits non-zero when there are any). */
  errors: string[];
  wan?: WanSection;
}

export function machineInfo(nativeBinding: boolean, sshmuxVersion: string, openssh: string): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nativeBinding,
    sshmuxVersion,
    openssh,
    note: 'a 2-core VM shared with other engineers running test suites: expect noise; ratios are paired per round to cancel some of it',
  };
}

function fmt(value: number, unit: string): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function cell(side: SideResult, unit: string): string {
  if (side.notMeasured?.startsWith('failed: ')) return `**FAILED**: ${side.notMeasured.slice(8)}`;
  if (side.notMeasured) return `not measured: ${side.notMeasured}`;
  if (side.values.length === 0) return 'not measured: no rounds';
  return `${fmt(median(side.values), unit)}<br><sub>${side.label}</sub>`;
}

function counts(side: SideResult): string {
  const parts: string[] = [];
  if (side.successes?.length) parts.push(`ok ${[...new Set(side.successes)].join(', ')}`);
  if (side.logins?.length) parts.push(`logins ${side.logins.join('/')}`);
  return parts.join('; ');
}

function ratioCell(row: Row): string {
  if (row.ratio === null) return '—';
  const better = row.better === 'lower' ? row.ratio < 1 : row.ratio > 1;
  return `**${row.ratio.toFixed(2)}×** ${better ? '(sshmux better)' : '(OpenSSH better)'}`;
}

function targetCell(row: Row): string {
  if (!row.target) return '';
  const mark = row.target.met === null ? '?' : row.target.met ? 'met' : 'missed';
  return `${row.target.text}: ${mark}`;
}

function esc(text: string): string {
  return text.replace(/\|/g, '\\|');
}

const TABLE_HEAD = [
  '| scenario | better | sshmux (median) | OpenSSH (median) | ratio sshmux/OpenSSH | sshmux ok / logins | OpenSSH ok / logins | target |',
  '|---|---|---|---|---|---|---|---|',
];

function table(rows: Row[]): string[] {
  return rows.map(
    (row) =>
      `| ${esc(`${row.group}: ${row.title}`)} | ${row.better} | ${esc(cell(row.sshmux, row.unit))} | ` +
      `${esc(cell(row.openssh, row.unit))} | ${ratioCell(row)} | ${esc(counts(row.sshmux))} | ` +
      `${esc(counts(row.openssh))} | ${esc(targetCell(row))} |`,
  );
}

function notes(rows: Row[]): string[] {
  return rows.flatMap((r) =>
    [r.sshmux, r.openssh].flatMap((s) => {
      const parts: string[] = [];
      if (s.cpuPerGiB?.length) {
        parts.push(`client process CPU ${median(s.cpuPerGiB).toFixed(2)} s per GiB (user+sys, median)`);
      }
      if (s.note) parts.push(s.note);
      return parts.length > 0 ? [`- ${r.group}: ${r.title} — ${s.label}: ${parts.join('; ')}`] : [];
    }),
  );
}

function wanLines(wan: WanSection): string[] {
  const c = wan.linkCounts;
  const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
  const lines = [
    '',
    `## WAN profile: ${wan.profile}`,
    '',
    `Both clients connect to the same sshd through a user-space link emulator (test/helpers/link-emulator.ts, ` +
      `in a process of its own): ${wan.profile} each way, a bounded queue that pushes back through TCP. ` +
      `Every side of every round is checked to have moved its bytes through the emulator. ` +
      `Section duration ${Math.round(wan.durationSec)} s; the emulator carried ${mib(c.up)} MiB up, ` +
      `${mib(c.down)} MiB down over ${c.accepted} connections.`,
    '',
  ];
  if (wan.rows.length === 0) return [...lines, 'No WAN rows ran.'];
  lines.push(...TABLE_HEAD, ...table(wan.rows));
  const n = notes(wan.rows);
  if (n.length > 0) lines.push('', '### WAN notes', '', ...n);
  lines.push('', '### WAN sizes', '', '```json', JSON.stringify(wan.sizes, null, 2), '```');
  return lines;
}

export function renderMarkdown(report: Report): string {
  const m = report.machine;
  const lines = [
    `# sshmux vs OpenSSH — ${report.mode} run`,
    '',
    `Date: ${report.date} · duration ${Math.round(report.durationSec)} s · \`npm run bench${report.mode === 'quick' ? ' -- --quick' : ''}\`${report.wan ? ` · WAN: ${report.wan.profile}` : ''}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.kernel}, Node ${m.node}, ` +
      `ssh2 native crypto binding: **${m.nativeBinding ? 'loaded' : 'NOT loaded'}**, ${m.openssh}. ` +
      `Note: ${m.note}.`,
    '',
    'Both sides talk to the same containerized sshd as its unprivileged user `backup`, with the same ed25519 key ' +
      'and cipher. Ratio = sshmux ÷ OpenSSH, computed per round then the median. ' +
      '"lower" rows are times/memory (ratio < 1 means sshmux is better); "higher" rows are throughput ' +
      '(ratio > 1 means sshmux is better). Targets are goals, not assertions.',
    '',
    ...TABLE_HEAD,
  ];
  if (report.rows.length > 0) lines.push(...table(report.rows));
  else lines.push('| (no loopback rows in this run) | | | | | | | |');
  const n = notes(report.rows);
  if (n.length > 0) lines.push('', '## Notes', '', ...n);
  if (report.wan) lines.push(...wanLines(report.wan));
  lines.push('', '## Sizes', '', '```json', JSON.stringify(report.sizes, null, 2), '```');
  if (report.errors.length > 0)
    lines.push('', '## Harness errors', '', ...report.errors.map((e) => `- ${e}`));
  lines.push('', `sshmux \`--version -v\`:`, '', '```', m.sshmuxVersion, '```', '');
  return lines.join('\n');
}
