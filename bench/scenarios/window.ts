import path from 'node:path';
import { CONTAINER_BTRFS } from '../../test/helpers/sshd.js';
import { BTRFS_CHILD, btrfsChildArgs } from '../lib/btrfs-child.js';
import { directEndpoint, endpointOnPort, LinkProcess } from '../lib/endpoint.js';
import { alternate, makeRow, ratioTarget, skippedSide, TIME_CPU, timeCpu } from '../lib/measure.js';
import { OpenSsh } from '../lib/openssh.js';
import { hostFor, poolMissing, usingPool } from '../lib/pool.js';
import { q, run, sh, shOk } from '../lib/proc.js';
import { formatBytes, GiB, mibPerSec } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';
import { btrfsScenario } from './btrfs.js';

const RECV = `${CONTAINER_BTRFS}/recv`;
const TARGET = 2;
const MiB = 1024 * 1024;
/** What RemoteHost grants a remote btrfs sender (src/btrfs/remote-host.ts), for the stream row too. */
const STREAM_WINDOW = 16 * MiB;

/**
 * Issue #16 target 3, "past the window": one btrfs stream over a long fat link (RTT 100 ms,
 * 1000 Mbit/s by default: `--wide-rtt`, `--wide-mbit`), where one SSH channel's 2 MiB window,
 * not the link, is the limit. Pull (the remote's `btrfs send` → local `btrfs receive`): the
 * client is the receiver and grants a 16 MiB window (`RunOptions.receiveWindow`), vs
 * `ssh host sudo btrfs send | btrfs receive`. Send (the other direction) runs the btrfs scenario
 * over the same link: there the window is sshd's, which no client option changes.
 */
export async function windowScenario(ctx: Ctx): Promise<Row[]> {
  const link = await LinkProcess.start(ctx.sshd.port, ctx.wide);
  const openssh = new OpenSsh(endpointOnPort(ctx.sshd, link.port, ctx.tmp), ctx.tmp);
  const wide: Ctx = {
    ...ctx,
    endpoint: endpointOnPort(ctx.sshd, link.port, ctx.tmp),
    link,
    openssh,
    sizes: { ...ctx.sizes, btrfsBytes: ctx.sizes.wideBytes },
  };
  const group = `past the window (${link.description})`;
  ctx.log(`  window: link emulator on port ${link.port}, ${link.description}`);
  try {
    const rows = [await streamRow(wide, group), await pullRow(wide, group)];
    for (const row of await btrfsScenario(wide)) {
      row.group = `${group}: btrfs send (client → server)`;
      row.target = {
        text: `≥ ${TARGET}× OpenSSH: not reachable this way, sshd's 2 MiB window caps both sides`,
        met: row.ratio === null ? null : row.ratio >= TARGET,
      };
      rows.push(row);
    }
    return rows;
  } finally {
    await openssh.closeAll();
    await link.close();
  }
}

/** The window alone: `spawn('head -c N /dev/zero', { receiveWindow })` vs `ssh host head -c N /dev/zero`. */
async function streamRow(ctx: Ctx, group: string): Promise<Row> {
  const cipher = ctx.ciphers[0]!;
  const bytes = ctx.sizes.wideBytes;
  const command = ['head', '-c', String(bytes), '/dev/zero'];
  const timeoutMs = 60_000 + (bytes / (5 * 1024 * 1024)) * 1000;
  const res = await alternate(
    ctx,
    'window stream',
    ctx.sizes.heavyRounds,
    {
      label: `new SshPool + spawn, receiveWindow ${STREAM_WINDOW / MiB} MiB`,
      notMeasured: poolMissing(ctx),
      timeoutMs,
      minLinkBytes: bytes,
      run: async (_round, signal) =>
        usingPool(ctx, undefined, async (pool) => {
          const t0 = performance.now();
          const proc = await pool.spawn(hostFor(ctx, cipher), command, {
            receiveWindow: STREAM_WINDOW,
            signal,
          });
          proc.stdin.end();
          proc.stderr.resume();
          let n = 0;
          for await (const chunk of proc.stdout as AsyncIterable<Buffer>) n += chunk.length;
          const status = await proc.exited;
          if (status.code !== 0 || n !== bytes)
            throw new Error(`head exited ${status.code} after ${n} bytes`);
          return { value: mibPerSec(bytes, performance.now() - t0) };
        }),
    },
    {
      label: 'ssh host head -c N /dev/zero',
      timeoutMs,
      minLinkBytes: bytes,
      run: async () => {
        const r = await sh(
          `${ctx.openssh.commandLine(cipher)} ${ctx.openssh.target} ${command.join(' ')} | wc -c`,
          {
            timeoutMs,
          },
        );
        if (r.code !== 0 || Number(r.stdout.trim()) !== bytes)
          throw new Error(`ssh head failed (${r.code}): ${r.stderr}`);
        return { value: mibPerSec(bytes, r.ms) };
      },
    },
  );
  return makeRow({
    id: 'window-stream',
    group,
    title: `download stream, ${formatBytes(bytes)} (connect included), MiB/s`,
    unit: 'MiB/s',
    better: 'higher',
    ...res,
    target: ratioTarget(`≥ ${TARGET}× ssh (the window's effect alone)`, TARGET),
  });
}

/** pullSnapshot (own node process, new pool) vs `ssh host sudo -n btrfs send S | btrfs receive D`. */
async function pullRow(ctx: Ctx, group: string): Promise<Row> {
  const cipher = ctx.ciphers[0]!;
  const bytes = ctx.sizes.wideBytes;
  const title = `pull: remote btrfs send → local receive, ${formatBytes(bytes)} snapshot, payload MiB/s`;
  const src = ctx.sshd.btrfs?.source;
  const row = (
    sshmux = skippedSide('pullSnapshot', 'no btrfs here (needs root and btrfs-progs)'),
    openssh = sshmux,
  ) =>
    makeRow({
      id: 'window-pull',
      group,
      title,
      unit: 'MiB/s',
      better: 'higher',
      sshmux,
      openssh,
      target: ratioTarget(`≥ ${TARGET}× ssh host btrfs send | btrfs receive (issue target 3)`, TARGET),
    });
  if (!src) return row();
  const data = path.join(src, 'wide-data');
  const snap = path.join(src, 'wide-snap');
  const into = path.join(src, 'pulled');
  ctx.log(
    `  window: writing ${formatBytes(bytes)} of random data and sending it to the container (loopback)`,
  );
  const direct = new OpenSsh(directEndpoint(ctx.sshd), ctx.tmp).commandLine(cipher);
  await ctx.sshd.sh(`mkdir -p ${RECV}`);
  await shOk(
    [
      `btrfs -q subvolume create ${q(data)}`,
      `for i in 1 2 3 4; do head -c ${Math.floor(bytes / 4)} /dev/urandom > ${q(data)}/f$i; done`,
      `btrfs -q subvolume snapshot -r ${q(data)} ${q(snap)}`,
      `mkdir -p ${q(into)}`,
      `btrfs send -q ${q(snap)} | ${direct} ${ctx.openssh.target} ${q(`sudo -n btrfs receive ${RECV}`)}`,
    ].join(' && '),
  );
  // Warm the remote page cache for both sides alike.
  await ctx.sshd.sh(`btrfs send -q ${RECV}/wide-snap > /dev/null`);
  const drop = () =>
    sh(`if [ -e ${q(into)}/wide-snap ]; then btrfs -q subvolume delete ${q(into)}/wide-snap; fi`);
  const timeoutMs = 60_000 + (bytes / (5 * 1024 * 1024)) * 1000;
  const s = ctx.endpoint;
  try {
    const res = await alternate(
      ctx,
      'window pull',
      ctx.sizes.heavyRounds,
      {
        label: 'pullSnapshot (new SshPool, own node process, 16 MiB receive window)',
        notMeasured: poolMissing(ctx) ?? ctx.sshmux.missing('pullSnapshot'),
        timeoutMs,
        minLinkBytes: bytes,
        run: async () => {
          await drop();
          const args = btrfsChildArgs(s, cipher, {
            source: `bench:${RECV}/wide-snap`,
            target: into,
            parent: null,
            mode: 'pull',
          });
          const r = await run(process.execPath, [BTRFS_CHILD, JSON.stringify(args)], { timeoutMs });
          if (r.code !== 0) throw new Error(`pullSnapshot child failed (${r.code}): ${r.stderr.slice(-500)}`);
          const { ms, cpuSec } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
            ms: number;
            cpuSec: number;
          };
          return { value: mibPerSec(bytes, ms), cpuPerGiB: cpuSec / (bytes / GiB) };
        },
      },
      {
        label: 'ssh host sudo -n btrfs send | btrfs receive',
        timeoutMs,
        minLinkBytes: bytes,
        run: async () => {
          await drop();
          const send = `${ctx.openssh.commandLine(cipher)} ${ctx.openssh.target} ${q(`sudo -n btrfs send -q ${RECV}/wide-snap`)}`;
          const r = await sh(`${TIME_CPU} ${send} | btrfs receive -q ${q(into)}`, { timeoutMs });
          if (r.code !== 0) throw new Error(`ssh btrfs send | btrfs receive failed (${r.code}): ${r.stderr}`);
          const cpu = timeCpu(r.stderr);
          return {
            value: mibPerSec(bytes, r.ms),
            ...(cpu !== undefined && { cpuPerGiB: cpu / (bytes / GiB) }),
          };
        },
      },
    );
    return row(res.sshmux, res.openssh);
  } finally {
    await drop();
    await sh(`btrfs -q subvolume delete ${q(snap)} ${q(data)}; rmdir ${q(into)}`);
    await ctx.sshd.sh(`btrfs -q subvolume delete -c ${RECV}/wide-snap`);
  }
}
