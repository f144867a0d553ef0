import type { DoctorReport, DoctorSection } from '../doctor/types.js';

const TITLE: Record<DoctorSection, string> = {
  system: 'system',
  daemon: 'daemon',
  agent: 'agent',
  config: 'configuration',
  keys: 'keys',
  'known-hosts': 'known hosts',
  connection: 'connection',
};

const TAG = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** The report as people read it: sections, one line per check, advice indented under it. */
export function formatDoctorText(report: DoctorReport): string {
  const lines: string[] = [
    `sshmux doctor${report.destination === undefined ? '' : ` ${report.destination}`}`,
  ];
  let section: DoctorSection | undefined;
  for (const c of report.checks) {
    if (c.section !== section) {
      section = c.section;
      lines.push(`${TITLE[section]}:`);
    }
    lines.push(`  ${TAG[c.status]}  ${c.summary}`);
    if (c.advice !== undefined && c.status !== 'ok') lines.push(`        -> ${c.advice}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push(
    failed === 0
      ? `no problems found${warned > 0 ? ` (${warned} warning(s))` : ''}`
      : `${failed} problem(s) found${warned > 0 ? `, ${warned} warning(s)` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** The report as one JSON document (`--json`): `{ destination, ok, checks: [...] }`. */
export function formatDoctorJson(report: DoctorReport): string {
  return `${JSON.stringify({ destination: report.destination ?? null, ok: report.ok, checks: report.checks }, null, 2)}\n`;
}
