import { alternateMany, countingLogins, makeRow, sideMedian, wanOr } from '../lib/measure.js';
import { SSH } from '../lib/openssh.js';
import { closePool, hostFor, poolMissing } from '../lib/pool.js';
import { run } from '../lib/proc.js';
import type { Ctx, Row, SideResult, Target } from '../lib/types.js';

const COMMAND = 'sleep 0.2';

/**
 * N commands at once against sshd's defaults (MaxSessions 10, MaxStartups 10:30:100), from
 * cold: a new pool, a new ControlMaster (its start is timed), or N fresh ssh processes.
 * Wall time, successes and new logins per round.
 */
export async function burstScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const rows: Row[] = [];
  for (const n of ctx.sizes.bursts) {
    const [pool, cm, plain] = await alternateMany(ctx, `burst ${n}`, ctx.sizes.heavyRounds, [
      {
        label: 'new SshPool (defaults), N × exec',
        notMeasured: poolMissing(ctx),
        run: async () => {
          const host = hostFor(ctx, cipher);
          const Pool = ctx.sshmux.mod.SshPool!;
          const p = new Pool();
          try {
            const { result, logins } = await countingLogins(ctx, async () => {
              const t0 = performance.now();
              const settled = await Promise.allSettled(
                Array.from({ length: n }, () => p.exec(host, COMMAND)),
              );
              const ms = performance.now() - t0;
              const ok = settled.filter((s) => s.status === 'fulfilled' && s.value.exitCode === 0).length;
              return { ms, ok };
            });
            return { value: result.ms, success: `${result.ok}/${n}`, logins };
          } finally {
            await closePool(p);
          }
        },
      },
      {
        label: 'ControlMaster + N × ssh -S',
        run: async () => {
          const { result, logins } = await countingLogins(ctx, async () => {
            const t0 = performance.now();
            const master = await ctx.openssh.startMaster(cipher);
            try {
              const results = await Promise.all(
                Array.from({ length: n }, () => master.exec(COMMAND.split(' '))),
              );
              return { ms: performance.now() - t0, ok: results.filter((r) => r.code === 0).length };
            } finally {
              await master.close();
            }
          });
          return { value: result.ms, success: `${result.ok}/${n}`, logins };
        },
      },
      {
        label: 'N × plain ssh',
        run: async () => {
          const { result, logins } = await countingLogins(ctx, async () => {
            const t0 = performance.now();
            const results = await Promise.all(
              Array.from({ length: n }, () =>
                run(SSH, ctx.openssh.argv(cipher, COMMAND.split(' ')), { timeoutMs: 120_000 }),
              ),
            );
            return { ms: performance.now() - t0, ok: results.filter((r) => r.code === 0).length };
          });
          return { value: result.ms, success: `${result.ok}/${n}`, logins };
        },
      },
    ]);
    const target = (): Target => burstTarget(n, pool!, [cm!, plain!]);
    for (const [openssh, what] of [
      [cm!, 'ControlMaster'],
      [plain!, 'plain ssh'],
    ] as const) {
      rows.push(
        makeRow({
          id: `burst-${n}-${what === 'plain ssh' ? 'plain' : 'cm'}`,
          group: `burst ${n} × ${COMMAND}`,
          title: `vs ${what}, wall time from cold`,
          unit: 'ms',
          better: 'lower',
          sshmux: pool!,
          openssh,
          target: wanOr(ctx, what, target),
        }),
      );
    }
  }
  return rows;
}

function burstTarget(n: number, pool: SideResult, openssh: SideResult[]): Target {
  const text = `all ${n} ok, ≤ 4 logins, wall ≤ 0.5× best OpenSSH mode`;
  const mine = sideMedian(pool);
  const best = Math.min(...openssh.map((s) => sideMedian(s) ?? Number.POSITIVE_INFINITY));
  if (mine === null || !Number.isFinite(best)) return { text, met: null };
  const allOk = (pool.successes ?? []).every((s) => s === `${n}/${n}`);
  const fewLogins = (pool.logins ?? []).every((l) => l <= 4);
  return { text, met: allOk && fewLogins && mine <= 0.5 * best };
}
