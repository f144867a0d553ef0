import { alternateMany, makeRow, ratioTarget, type SideSpec, timeCpu } from '../lib/measure.js';
import type { ControlMaster } from '../lib/openssh.js';
import { run } from '../lib/proc.js';
import { SshmuxCli } from '../lib/sshmux-cli.js';
import type { Ctx, Row, SideResult } from '../lib/types.js';

/**
 * `argv` run `n` times in a row by one shell under GNU time: wall and client CPU (user+sys of
 * every process the loop started) per call, in ms. The loop's own fork/exec is on both sides.
 */
async function perCall(
  argv: readonly string[],
  n: number,
  env: NodeJS.ProcessEnv,
): Promise<{ wall: number; cpu: number }> {
  const loop = `for i in $(seq ${n}); do "$@" >/dev/null </dev/null || exit 1; done`;
  const r = await run('/usr/bin/time', ['-f', 'CPU %U %S', 'bash', '-c', loop, 'loop', ...argv], {
    env,
    timeoutMs: 600_000,
  });
  const cpu = timeCpu(r.stderr);
  if (r.code !== 0 || cpu === undefined)
    throw new Error(`${argv.slice(0, 3).join(' ')} … exited ${r.code ?? r.signal}: ${r.stderr.slice(-300)}`);
  return { wall: r.ms / n, cpu: (cpu * 1000) / n };
}

/**
 * N sequential `sshmux ssh host true` with the daemon warm, against `ssh -S` clients, fresh
 * `ssh` (a full handshake each) and `node -e 0` (Node's own start, the floor for any Node CLI);
 * and N `sshmux ssh -G host` (git's probe before every fetch) against `node -e 0`.
 */
export async function cliLatencyScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const n = ctx.sizes.cliCommands;
  const cli = new SshmuxCli(ctx.openssh, ctx.tmp, 'rt-cli');
  let master: ControlMaster | undefined;
  let notMeasured = ctx.sshmux.unavailable;
  /** CPU ms per call, by side label, by round. */
  const cpu = new Map<string, Map<number, number>>();
  const side = (label: string, argv: () => Promise<string[]>, env: NodeJS.ProcessEnv): SideSpec => ({
    label,
    timeoutMs: 600_000,
    run: async (round) => {
      const r = await perCall(await argv(), n, env);
      if (!cpu.has(label)) cpu.set(label, new Map());
      cpu.get(label)!.set(round, r.cpu);
      return { value: r.wall };
    },
  });
  /** The CPU row's sides: rounds both measured, in round order (the ratio is paired per round). */
  const cpuSides = (a: SideResult, b: SideResult): [SideResult, SideResult] => {
    const ca = cpu.get(a.label) ?? new Map<number, number>();
    const cb = cpu.get(b.label) ?? new Map<number, number>();
    const rounds = [...ca.keys()].filter((k) => cb.has(k)).sort((x, y) => x - y);
    const pick = (s: SideResult, c: Map<number, number>): SideResult => ({
      ...s,
      label: `${s.label}, CPU`,
      values: rounds.map((k) => c.get(k)!),
    });
    return [pick(a, ca), pick(b, cb)];
  };
  try {
    if (!notMeasured) {
      // Warm the daemon; without one, `sshmux ssh` silently connects in-process, which is not this row.
      const first = await cli.exec(cipher, ['true']);
      if (first.code !== 0)
        notMeasured = `sshmux ssh failed (${first.code}): ${first.stderr.trim().slice(-200)}`;
      else if ((await cli.daemonPid()) === undefined)
        notMeasured = 'no sshmux daemon answered -O check after a first call';
    }
    const node = process.execPath;
    const probe = [node, ...cli.argv(cipher, []).slice(0, -1), '-G', ctx.openssh.target];
    const [mux, cm, fresh, bare, g] = await alternateMany(ctx, 'cli', ctx.sizes.heavyRounds, [
      {
        ...side('sshmux ssh (daemon warm)', async () => [node, ...cli.argv(cipher, ['true'])], cli.env),
        notMeasured,
      },
      side(
        'ssh -S (ControlMaster client)',
        async () => {
          if (!master) {
            master = await ctx.openssh.startMaster(cipher);
            await master.exec(['true']);
          }
          return ['/usr/bin/ssh', ...master.argv(['true'])];
        },
        process.env,
      ),
      side(
        'ssh host true (fresh)',
        async () => ['/usr/bin/ssh', ...ctx.openssh.argv(cipher, ['true'])],
        process.env,
      ),
      side('node -e 0', async () => [node, '-e', '0'], cli.env),
      { ...side('sshmux ssh -G host', async () => probe, cli.env), notMeasured: ctx.sshmux.unavailable },
    ]);
    const group = 'CLI per invocation';
    const [muxCpu, freshCpu] = cpuSides(mux!, fresh!);
    return [
      makeRow({
        id: 'cli-vs-cm',
        group,
        title: `${n} × sshmux ssh host true vs ssh -S, wall`,
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: cm!,
      }),
      makeRow({
        id: 'cli-vs-fresh',
        group,
        title: `${n} × sshmux ssh host true vs fresh ssh, wall`,
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: fresh!,
        target: ratioTarget('≤ 0.7× fresh ssh', 0.7),
      }),
      makeRow({
        id: 'cli-cpu-vs-fresh',
        group,
        title: `${n} × sshmux ssh host true vs fresh ssh (full handshake), client CPU per call`,
        unit: 'ms',
        better: 'lower',
        sshmux: muxCpu,
        openssh: freshCpu,
        target: ratioTarget('≤ 0.6× fresh ssh CPU', 0.6),
      }),
      makeRow({
        id: 'cli-vs-node',
        group,
        title: `${n} × sshmux ssh host true vs node -e 0, wall`,
        unit: 'ms',
        better: 'lower',
        sshmux: mux!,
        openssh: bare!,
        target: ratioTarget('≤ 1.3× node -e 0', 1.3),
      }),
      makeRow({
        id: 'cli-g-vs-node',
        group,
        title: `${n} × sshmux ssh -G host (git's probe) vs node -e 0, wall`,
        unit: 'ms',
        better: 'lower',
        sshmux: g!,
        openssh: bare!,
        target: ratioTarget('≤ 1.15× node -e 0', 1.15),
      }),
    ];
  } finally {
    await master?.close();
    await cli.stop();
  }
}
