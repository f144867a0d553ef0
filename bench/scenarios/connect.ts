import { alternate, makeRow, ratioTarget, wanOr } from '../lib/measure.js';
import { execOk, hostFor, poolMissing, usingPool } from '../lib/pool.js';
import type { Ctx, Row } from '../lib/types.js';

/** Connect + authenticate + first command: a new SshPool's first exec vs a fresh `ssh host true`. */
export async function connectScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const n = ctx.sizes.connectIterations;
  const res = await alternate(
    ctx,
    'connect',
    ctx.sizes.rounds,
    {
      label: 'new SshPool + exec true',
      minLinkBytes: n * 2_000,
      notMeasured: poolMissing(ctx),
      run: async () => {
        const host = hostFor(ctx, cipher);
        let total = 0;
        for (let i = 0; i < n; i++) {
          await usingPool(ctx, undefined, async (pool) => {
            const t0 = performance.now();
            await execOk(pool, host, 'true');
            total += performance.now() - t0;
          });
        }
        return { value: total / n };
      },
    },
    {
      label: 'ssh host true (fresh)',
      minLinkBytes: n * 2_000,
      run: async () => {
        let total = 0;
        for (let i = 0; i < n; i++) {
          const r = await ctx.openssh.exec(cipher, ['true']);
          if (r.code !== 0) throw new Error(`ssh true exited ${r.code}: ${r.stderr}`);
          total += r.ms;
        }
        return { value: total / n };
      },
    },
  );
  return [
    makeRow({
      id: 'connect',
      group: 'connect+auth+first command',
      title: `${cipher.split('@')[0]}, mean of ${n}`,
      unit: 'ms',
      better: 'lower',
      ...res,
      target: wanOr(ctx, 'fresh ssh', ratioTarget('≤ 0.7× fresh ssh', 0.7)),
    }),
  ];
}
