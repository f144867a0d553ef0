import { alternateMany, makeRow, ratioTarget } from '../lib/measure.js';
import type { ControlMaster } from '../lib/openssh.js';
import type { RunResult } from '../lib/proc.js';
import { SshmuxCli } from '../lib/sshmux-cli.js';
import type { Ctx, Row } from '../lib/types.js';

function ok(r: RunResult, what: string): number {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}: ${r.stderr.slice(-300)}`);
  return r.ms;
}

/** N sequential `sshmux ssh host true` with the daemon warm vs `ssh -S` clients and fresh `ssh`. */
export async function cliLatencyScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const n = ctx.sizes.cliCommands;
  const cli = new SshmuxCli(ctx.openssh, ctx.tmp, 'rt-cli');
  let master: ControlMaster | undefined;
  let notMeasured = ctx.sshmux.unavailable;
  try {
    if (!notMeasured) {
      // Warm the daemon; without one, `sshmux ssh` silently connects in-process, which is not this row.
      const first = await cli.exec(cipher, ['true']);
      if (first.code !== 0)
        notMeasured = `sshmux ssh failed (${first.code}): ${first.stderr.trim().slice(-200)}`;
      else if ((await cli.daemonPid()) === undefined)
        notMeasured = 'no sshmux daemon answered -O check after a first call';
    }
    const [mux, cm, fresh] = await alternateMany(ctx, 'cli', ctx.sizes.heavyRounds, [
      {
        label: 'sshmux ssh (daemon warm)',
        notMeasured,
        timeoutMs: 600_000,
        run: async () => {
          let total = 0;
          for (let i = 0; i < n; i++) total += ok(await cli.exec(cipher, ['true']), 'sshmux ssh');
          return { value: total / n };
        },
      },
      {
        label: 'ssh -S (ControlMaster client)',
        run: async () => {
          if (!master) {
            master = await ctx.openssh.startMaster(cipher);
            await master.exec(['true']);
          }
          let total = 0;
          for (let i = 0; i < n; i++) total += ok(await master.exec(['true']), 'ssh -S');
          return { value: total / n };
        },
      },
      {
        label: 'ssh host true (fresh)',
        run: async () => {
          let total = 0;
          for (let i = 0; i < n; i++) total += ok(await ctx.openssh.exec(cipher, ['true']), 'ssh');
          return { value: total / n };
        },
      },
    ]);
    return [
      makeRow({
        id: 'cli-vs-cm',
        group: 'CLI per invocation',
        title: `${n} × sshmux ssh host true vs ssh -S`,
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: cm!,
      }),
      makeRow({
        id: 'cli-vs-fresh',
        group: 'CLI per invocation',
        title: `${n} × sshmux ssh host true vs fresh ssh`,
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: fresh!,
        target: ratioTarget('≤ 0.7× fresh ssh', 0.7),
      }),
    ];
  } finally {
    await master?.close();
    await cli.stop();
  }
}
