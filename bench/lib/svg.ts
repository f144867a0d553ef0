import type { Report } from './report.js';
import type { Row } from './types.js';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const LOG_MIN = -3; // 1/8
const LOG_MAX = 3; // 8

/**
 * A horizontal bar per row: sshmux ÷ OpenSSH on a log2 axis around a bold 1.0 line. The bar is
 * green when sshmux wins (taking the row's "lower/higher is better" into account) and red when
 * OpenSSH wins, so the colour alone answers "who is faster" and the label says which way is good.
 */
export function renderSvg(report: Report): string {
  const labelW = 500;
  const plotX = labelW + 10;
  const plotW = 400;
  const width = plotX + plotW + 150;
  const rowH = 26;
  const top = 78;
  // The loopback rows, then the WAN section under a heading line naming its profile.
  const rows: (Row | string)[] = [...report.rows];
  if (report.wan)
    rows.push(
      `WAN profile: ${report.wan.profile} (link emulator between both clients and the sshd)`,
      ...report.wan.rows,
    );
  const height = top + rows.length * rowH + 46;
  const x = (ratio: number): number => {
    const l = Math.min(LOG_MAX, Math.max(LOG_MIN, Math.log2(ratio)));
    return plotX + ((l - LOG_MIN) / (LOG_MAX - LOG_MIN)) * plotW;
  };
  const one = x(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="16" font-weight="bold">sshmux ÷ OpenSSH, ${esc(report.mode)} run ${esc(report.date.slice(0, 10))}</text>`,
    `<text x="12" y="42" fill="#333"><tspan fill="#1a7f37" font-weight="bold">green = sshmux better</tspan>, <tspan fill="#c62828" font-weight="bold">red = OpenSSH better</tspan>; each label says whether lower or higher is better. Log scale; 1.0 = equal.</text>`,
  ];
  // Axis ticks.
  for (let l = LOG_MIN; l <= LOG_MAX; l++) {
    const tx = x(2 ** l);
    const label = l < 0 ? `1/${2 ** -l}` : String(2 ** l);
    out.push(
      `<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${top + rows.length * rowH}" stroke="${l === 0 ? '#000' : '#ddd'}" stroke-width="${l === 0 ? 2 : 1}"/>`,
      `<text x="${tx}" y="${top - 12}" text-anchor="middle" fill="#555">${label}×</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    const mid = y + rowH / 2;
    if (typeof row === 'string') {
      out.push(
        `<rect x="0" y="${y}" width="${width}" height="${rowH}" fill="#dbe9f7"/>`,
        `<text x="12" y="${mid + 5}" font-size="14" font-weight="bold">${esc(row)}</text>`,
      );
      return;
    }
    if (i % 2 === 0)
      out.push(`<rect x="0" y="${y}" width="${width}" height="${rowH}" fill="#f6f8fa" opacity="0.7"/>`);
    const dir = row.better === 'lower' ? 'lower is better' : 'higher is better';
    out.push(
      `<text x="12" y="${mid + 4}"><tspan font-weight="bold">${esc(row.group)}</tspan> ${esc(row.title)} <tspan fill="#666">(${dir})</tspan></text>`,
    );
    if (row.ratio === null) {
      const why = row.sshmux.notMeasured ?? row.openssh.notMeasured ?? 'not measured';
      const failed = why.startsWith('failed');
      const text = failed ? `sshmux ${why}` : `not measured: ${why.replace(/^not measured: /, '')}`;
      const short = text.length > 64 ? `${text.slice(0, 61)}…` : text;
      out.push(
        `<text x="${plotX + 6}" y="${mid + 4}" fill="${failed ? '#c62828' : '#888'}" font-style="italic"${failed ? ' font-weight="bold"' : ''}>${esc(short)}</text>`,
      );
      return;
    }
    const good = row.better === 'lower' ? row.ratio <= 1 : row.ratio >= 1;
    const rx = x(row.ratio);
    const x0 = Math.min(one, rx);
    const w = Math.max(2, Math.abs(rx - one));
    out.push(
      `<rect x="${x0}" y="${y + 5}" width="${w}" height="${rowH - 10}" rx="2" fill="${good ? '#2da44e' : '#d73a49'}"/>`,
    );
    const clipped = Math.log2(row.ratio) > LOG_MAX || Math.log2(row.ratio) < LOG_MIN ? ' (off scale)' : '';
    // The number sits just right of whichever is further right: the bar's end or the 1.0 line.
    out.push(
      `<text x="${Math.max(rx, one) + 6}" y="${mid + 4}" font-weight="bold" fill="${good ? '#1a7f37' : '#c62828'}">${row.ratio.toFixed(2)}×${clipped}</text>`,
    );
  });
  const by = top + rows.length * rowH + 18;
  out.push(
    `<text x="${plotX}" y="${by}" fill="#555">◀ sshmux smaller than OpenSSH</text>`,
    `<text x="${plotX + plotW}" y="${by}" fill="#555" text-anchor="end">sshmux larger than OpenSSH ▶</text>`,
    `<text x="12" y="${by + 20}" fill="#777">${esc(`${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}, native crypto ${report.machine.nativeBinding ? 'loaded' : 'not loaded'}; shared VM, noisy`)}</text>`,
    '</svg>',
    '',
  );
  return out.join('\n');
}
