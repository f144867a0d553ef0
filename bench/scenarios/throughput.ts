import { pipeline } from 'node:stream/promises';
import { zeroStream } from '../lib/data.js';
import { alternate, makeRow, measuringCpu, ratioTarget, TIME_CPU, timeCpu } from '../lib/measure.js';
import { hostFor, poolMissing, usingPool } from '../lib/pool.js';
import { q, sh } from '../lib/proc.js';
import { formatBytes, GiB, MiB, mibPerSec } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';

/** One stream into `cat > /dev/null`: `spawn` stdin from a zero Readable vs `head -c … | ssh host 'cat >/dev/null'`. */
export async function throughputScenario(ctx: Ctx): Promise<Row[]> {
  const bytes = ctx.sizes.streamBytes;
  const rows: Row[] = [];
  for (const cipher of ctx.ciphers) {
    const res = await alternate(
      ctx,
      `stream ${cipher}`,
      ctx.sizes.heavyRounds,
      {
        label: 'new SshPool, spawn stdin ← zero Readable',
        notMeasured: poolMissing(ctx),
        timeoutMs: 60_000 + (bytes / (2 * MiB)) * 1000,
        run: async () =>
          usingPool(ctx, undefined, async (pool) => {
            const host = hostFor(ctx, cipher);
            const { result: ms, cpuSec } = await measuringCpu(async () => {
              const t0 = performance.now();
              const proc = await pool.spawn(host, 'cat >/dev/null');
              proc.stdout.resume();
              proc.stderr.resume();
              await pipeline(zeroStream(bytes), proc.stdin);
              const exit = await proc.exited;
              if (exit.code !== 0) throw new Error(`remote cat exited ${exit.code ?? exit.signal}`);
              return performance.now() - t0;
            });
            return { value: mibPerSec(bytes, ms), cpuPerGiB: cpuSec / (bytes / GiB) };
          }),
      },
      {
        label: "head -c | ssh host 'cat >/dev/null'",
        run: async () => {
          const cmd = `head -c ${bytes} /dev/zero | ${TIME_CPU} ${ctx.openssh.commandLine(cipher)} ${ctx.openssh.target} ${q('cat >/dev/null')}`;
          const r = await sh(cmd);
          if (r.code !== 0) throw new Error(`ssh stream failed (${r.code}): ${r.stderr}`);
          const cpu = timeCpu(r.stderr);
          return {
            value: mibPerSec(bytes, r.ms),
            ...(cpu !== undefined && { cpuPerGiB: cpu / (bytes / GiB) }),
          };
        },
      },
    );
    rows.push(
      makeRow({
        id: `stream-${cipher}`,
        group: 'stream throughput',
        title: `${formatBytes(bytes)} → cat, ${cipher.split('@')[0]}`,
        unit: 'MiB/s',
        better: 'higher',
        ...res,
        target: ratioTarget('≥ 1.0× OpenSSH', 1.0),
      }),
    );
  }
  return rows;
}
