import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, makeRow } from '../lib/measure.js';
import { SSH, USER } from '../lib/openssh.js';
import { poolMissing } from '../lib/pool.js';
import { startChild } from '../lib/proc.js';
import { DIST_INDEX } from '../lib/sshmux.js';
import { formatBytes, MiB } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../children/stream.mjs');

interface MemoryTrace {
  /** VmRSS in MB at the first sample after 1 MiB had been written: connected, streaming just begun. */
  atStartMb: number | null;
  /** VmHWM (peak RSS) in MB, the last value read before the process exited. */
  peakMb: number;
  /** VmRSS in MB at the first sample after `checkpoint` bytes had been written. */
  atCheckpointMb: number | null;
  /** VmRSS in MB at the last sample (near the end of the stream). */
  atEndMb: number;
}

function readKb(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/**
 * Sample /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/io (wchar: bytes written, which
 * for both sides is essentially what went into the socket) every 50 ms until the process exits.
 */
function traceMemory(pid: number, checkpoint: number, exited: Promise<unknown>): Promise<MemoryTrace> {
  const trace: MemoryTrace = { atStartMb: null, peakMb: 0, atCheckpointMb: null, atEndMb: 0 };
  let done = false;
  void exited.finally(() => {
    done = true;
  });
  return new Promise((resolve) => {
    const tick = (): void => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const io = readFileSync(`/proc/${pid}/io`, 'utf8');
        const wchar = Number(/^wchar:\s+(\d+)/m.exec(io)?.[1] ?? 0);
        const rss = readKb(status, 'VmRSS') / 1024;
        trace.peakMb = Math.max(trace.peakMb, readKb(status, 'VmHWM') / 1024);
        if (rss > 0) trace.atEndMb = rss;
        if (trace.atStartMb === null && wchar >= 1024 * 1024) trace.atStartMb = rss;
        if (trace.atCheckpointMb === null && wchar >= checkpoint) trace.atCheckpointMb = rss;
      } catch {
        // gone (exited between samples) or a zombie without status
      }
      if (done) resolve(trace);
      else setTimeout(tick, 50);
    };
    tick();
  });
}

function waitExit(child: ReturnType<typeof startChild>, what: string, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${what} exited ${code ?? signal}: ${stderr().slice(-500)}`)),
    );
  });
}

function note(trace: MemoryTrace, checkpoint: number, bytes: number): string {
  const cp = trace.atCheckpointMb === null ? '?' : trace.atCheckpointMb.toFixed(0);
  const start = trace.atStartMb === null ? '?' : trace.atStartMb.toFixed(0);
  return `RSS after 1 MiB ${start} MB, after ${formatBytes(checkpoint)} ${cp} MB, near the end of ${formatBytes(bytes)} ${trace.atEndMb.toFixed(0)} MB, peak ${trace.peakMb.toFixed(0)} MB`;
}

/** Peak RSS while streaming: the sshmux side in its own Node process vs the ssh process. */
export async function rssScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const { rssBytes: bytes, rssCheckpoint: checkpoint } = ctx.sizes;
  const notes = { sshmux: [] as string[], openssh: [] as string[] };
  const traces: MemoryTrace[] = [];
  const res = await alternate(
    ctx,
    'rss',
    1,
    {
      label: 'node child: SshPool spawn stdin',
      notMeasured: poolMissing(ctx),
      timeoutMs: 60_000 + (bytes / (2 * MiB)) * 1000,
      run: async () => {
        const s = ctx.endpoint;
        const args = { dist: DIST_INDEX, host: s.host, port: s.port, user: USER, key: s.keyPath };
        const child = startChild(
          process.execPath,
          [CHILD, JSON.stringify({ ...args, knownHosts: s.knownHostsFile, cipher, bytes })],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let err = '';
        child.stderr?.setEncoding('utf8').on('data', (d: string) => {
          err += d;
        });
        const exited = waitExit(child, 'stream child', () => err);
        const trace = await traceMemory(
          child.pid!,
          checkpoint,
          exited.catch(() => {}),
        );
        await exited;
        notes.sshmux.push(note(trace, checkpoint, bytes));
        traces.push(trace);
        return { value: trace.peakMb };
      },
    },
    {
      label: 'ssh process (head -c | ssh)',
      run: async () => {
        const head = startChild('head', ['-c', String(bytes), '/dev/zero'], {
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        const ssh = startChild(SSH, ctx.openssh.argv(cipher, ['cat >/dev/null']), {
          stdio: [head.stdout!, 'ignore', 'pipe'],
        });
        let err = '';
        ssh.stderr?.setEncoding('utf8').on('data', (d: string) => {
          err += d;
        });
        const exited = waitExit(ssh, 'ssh', () => err);
        const trace = await traceMemory(
          ssh.pid!,
          checkpoint,
          exited.catch(() => {}),
        );
        await exited;
        notes.openssh.push(note(trace, checkpoint, bytes));
        return { value: trace.peakMb };
      },
    },
  );
  if (notes.sshmux.length) res.sshmux.note = notes.sshmux.join('; ');
  if (notes.openssh.length) res.openssh.note = notes.openssh.join('; ');
  const flat = (): { text: string; met: boolean | null } => {
    const text = `≤ 100 MB, flat (RSS near the end within 10 MB of RSS after ${formatBytes(checkpoint)})`;
    if (res.sshmux.notMeasured || traces.length === 0) return { text, met: null };
    return {
      text,
      met: traces.every(
        (t) => t.peakMb <= 100 && t.atCheckpointMb !== null && Math.abs(t.atEndMb - t.atCheckpointMb) <= 10,
      ),
    };
  };
  return [
    makeRow({
      id: 'rss',
      group: 'peak RSS',
      title: `streaming ${formatBytes(bytes)}, ${cipher.split('@')[0]}`,
      unit: 'MB',
      better: 'lower',
      ...res,
      target: flat,
    }),
  ];
}
