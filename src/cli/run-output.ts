import type { ExecManySummary, HostResult } from '../pool/exec-many-options.js';

/**
 * `host: line` output, as pdsh and `pssh -P` print it: each complete line of a host's stream is
 * written at once with its host's prefix, so lines of different hosts never interleave within a
 * line; a last line without a newline is finished when the host ends.
 */
export class LinePrefixer {
  readonly #partial = new Map<string, Buffer>();
  readonly #write: (data: Buffer) => void;

  constructor(write: (data: Buffer) => void) {
    this.#write = write;
  }

  push(host: string, chunk: Buffer): void {
    const data = Buffer.concat([this.#partial.get(host) ?? Buffer.alloc(0), chunk]);
    const last = data.lastIndexOf(0x0a);
    if (last < 0) {
      this.#partial.set(host, data);
      return;
    }
    this.#partial.set(host, data.subarray(last + 1));
    const prefix = Buffer.from(`${host}: `);
    const out: Buffer[] = [];
    let start = 0;
    while (start <= last) {
      const nl = data.indexOf(0x0a, start);
      out.push(prefix, data.subarray(start, nl + 1));
      start = nl + 1;
    }
    this.#write(Buffer.concat(out));
  }

  end(host: string): void {
    const rest = this.#partial.get(host);
    this.#partial.delete(host);
    if (rest && rest.length > 0)
      this.#write(Buffer.concat([Buffer.from(`${host}: `), rest, Buffer.from('\n')]));
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

function note(r: HostResult): string {
  if (r.error) return r.error.message.split('\n')[0] ?? '';
  if (r.signal) return `killed by SIG${r.signal}`;
  return '';
}

/** The table `sshmux run` prints on stderr at the end: one row per host, then the totals. */
export function summaryTable(summary: ExecManySummary): string {
  const rows = summary.results.map((r) => [
    r.host,
    r.status,
    r.exitCode === null ? '-' : String(r.exitCode),
    seconds(r.durationMs),
    note(r),
  ]);
  const head = ['HOST', 'STATUS', 'EXIT', 'TIME', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()}\n`;
  const s = summary;
  return (
    [head, ...rows].map(line).join('') +
    `${s.total} host${s.total === 1 ? '' : 's'}: ${s.ok} ok, ${s.failed} failed, ${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.aborted} aborted in ${seconds(s.durationMs)}\n`
  );
}

/** One host's result as the JSON line `--json` prints (output decoded as UTF-8). */
export function resultJson(r: HostResult): string {
  return `${JSON.stringify({
    host: r.host,
    index: r.index,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    durationMs: r.durationMs,
    stdout: r.stdout.toString(),
    stderr: r.stderr.toString(),
    error: r.error ? { kind: r.error.kind, code: r.error.code, message: r.error.message } : null,
  })}\n`;
}

/** The last JSON line of `--json`: the totals. */
export function summaryJson(s: ExecManySummary): string {
  const { total, ok, failed, errors, aborted, durationMs } = s;
  return `${JSON.stringify({ summary: { total, ok, failed, errors, aborted, durationMs } })}\n`;
}

/** `--group`: a host's whole output under a header, printed when it ends (as `pssh -i`). */
export function groupHeader(r: HostResult): string {
  const how =
    r.status === 'ok' || r.status === 'failed' ? `exit ${r.exitCode ?? `SIG${r.signal}`}` : r.status;
  return `=== ${r.host} (${how}, ${seconds(r.durationMs)}) ===\n`;
}
