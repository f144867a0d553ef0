import { alternateMany, makeRow, ratioTarget, type SideSpec, wanOr } from '../lib/measure.js';
import type { ControlMaster } from '../lib/openssh.js';
import { closePool, execOk, hostFor, poolMissing } from '../lib/pool.js';
import type { PoolLike } from '../lib/sshmux.js';
import type { Ctx, Row, SideResult } from '../lib/types.js';

/**
 * Warm per-command latency: N sequential `true` over a pooled connection vs `ssh -S` ControlMaster
 * clients, and in the WAN profile also vs plain `ssh host true` (a login per command).
 */
export async function warmLatencyScenario(ctx: Ctx): Promise<Row[]> {
  const n = ctx.sizes.latencyCommands;
  const rows: Row[] = [];
  for (const cipher of ctx.ciphers) {
    const missing = poolMissing(ctx);
    let pool: PoolLike | undefined;
    let master: ControlMaster | undefined;
    try {
      const host = missing ? undefined : hostFor(ctx, cipher);
      const minLinkBytes = n * 200;
      const sides: SideSpec[] = [
        {
          minLinkBytes,
          label: 'SshPool.exec (warm)',
          notMeasured: missing,
          run: async () => {
            if (!pool) {
              pool = new ctx.sshmux.mod.SshPool!();
              await execOk(pool, host!, 'true');
            }
            const t0 = performance.now();
            for (let i = 0; i < n; i++) await execOk(pool, host!, 'true');
            return { value: (performance.now() - t0) / n };
          },
        },
        {
          label: 'ssh -S (ControlMaster client)',
          minLinkBytes,
          run: async () => {
            if (!master) {
              master = await ctx.openssh.startMaster(cipher);
              await master.exec(['true']);
            }
            let total = 0;
            for (let i = 0; i < n; i++) {
              const r = await master.exec(['true']);
              if (r.code !== 0) throw new Error(`ssh -S true exited ${r.code}: ${r.stderr}`);
              total += r.ms;
            }
            return { value: total / n };
          },
        },
      ];
      if (ctx.link) {
        sides.push({
          label: 'ssh host true (plain, a login each)',
          minLinkBytes,
          run: async () => {
            let total = 0;
            for (let i = 0; i < n; i++) {
              const r = await ctx.openssh.exec(cipher, ['true']);
              if (r.code !== 0) throw new Error(`ssh true exited ${r.code}: ${r.stderr}`);
              total += r.ms;
            }
            return { value: total / n };
          },
        });
      }
      const [mine, cm, plain] = await alternateMany(ctx, `latency ${cipher}`, ctx.sizes.rounds, sides);
      const row = (suffix: string, what: string, openssh: SideResult) =>
        makeRow({
          id: `latency-${cipher}${suffix}`,
          group: 'warm latency',
          title: `${n} sequential true, ${cipher.split('@')[0]}${suffix ? ` vs ${what}` : ''}`,
          unit: 'ms/cmd',
          better: 'lower',
          sshmux: mine!,
          openssh,
          target: wanOr(ctx, what, ratioTarget('≤ 0.5× ControlMaster', 0.5)),
        });
      rows.push(row('', 'ControlMaster', cm!));
      if (plain) rows.push(row('-plain', 'plain ssh', plain));
    } finally {
      if (pool) await closePool(pool);
      await master?.close();
    }
  }
  return rows;
}
