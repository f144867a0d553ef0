import path from 'node:path';
import { CONTAINER_BTRFS } from '../../test/helpers/sshd.js';
import { BTRFS_CHILD, btrfsChildArgs } from '../lib/btrfs-child.js';
import { directEndpoint } from '../lib/endpoint.js';
import { alternate, makeRow, ratioTarget, skippedSide, TIME_CPU, timeCpu, wanOr } from '../lib/measure.js';
import { OpenSsh, USER } from '../lib/openssh.js';
import { poolMissing } from '../lib/pool.js';
import { q, run, sh, shOk } from '../lib/proc.js';
import { formatBytes, GiB, mibPerSec } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';
import { btrfsResumeRow } from './btrfs-resume.js';

const RECV = `${CONTAINER_BTRFS}/recv`;

/** `btrfs send` of a read-only snapshot into the container's btrfs: sendSnapshot vs `btrfs send | ssh sudo -n btrfs receive`. */
export async function btrfsScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const { btrfsBytes: bytes, btrfsIncrementBytes: incBytes } = ctx.sizes;
  const group = 'btrfs send';
  const fullTitle = `full, ${formatBytes(bytes)} snapshot`;
  const incTitle = `incremental, +${formatBytes(incBytes)}`;
  const src = ctx.sshd.btrfs?.source;
  if (!src) {
    const why = 'no btrfs here (needs root and btrfs-progs)';
    return [
      ...[fullTitle, incTitle].map((title, i) =>
        makeRow({
          id: i === 0 ? 'btrfs-full' : 'btrfs-incremental',
          group,
          title,
          unit: 'MiB/s',
          better: 'higher',
          sshmux: skippedSide('sendSnapshot', why),
          openssh: skippedSide('btrfs send | ssh receive', why),
        }),
      ),
      makeRow({
        id: 'btrfs-resume',
        group,
        title: 'interrupted at 60 %, rerun time: resumed vs restarted',
        unit: 's',
        better: 'lower',
        sshmux: skippedSide('rerun resumes (default)', why),
        openssh: skippedSide('rerun restarts (resume: false)', why),
      }),
    ];
  }

  ctx.log(`  btrfs: writing ${formatBytes(bytes)} + ${formatBytes(incBytes)} of random data`);
  // The WAN section runs this scenario again on the same btrfs: names of its own, removed at the end.
  const tag = ctx.link ? 'wan-' : '';
  const data = path.join(src, `${tag}data`);
  const snap1 = path.join(src, `${tag}snap1`);
  const snap2 = path.join(src, `${tag}snap2`);
  const files = 8;
  await shOk(
    [
      `btrfs -q subvolume create ${q(data)}`,
      `for i in $(seq 1 ${files}); do head -c ${Math.floor(bytes / files)} /dev/urandom > ${q(data)}/f$i; done`,
      `btrfs -q subvolume snapshot -r ${q(data)} ${q(snap1)}`,
      `head -c ${incBytes} /dev/urandom > ${q(data)}/new`,
      `btrfs -q subvolume snapshot -r ${q(data)} ${q(snap2)}`,
      'sync',
      // Warm the page cache for both sides alike.
      `btrfs send -q ${q(snap1)} > /dev/null`,
    ].join(' && '),
  );
  // Owned by the bench user, as a backup target is: sendSnapshot keeps its resume spool there.
  await ctx.sshd.sh(`mkdir -p ${RECV} && chown ${USER} ${RECV}`);
  const drop = (name: string): Promise<string> =>
    ctx.sshd.sh(`if [ -e ${RECV}/${name} ]; then btrfs -q subvolume delete -c ${RECV}/${name}; fi`);
  const missing = poolMissing(ctx) ?? ctx.sshmux.missing('sendSnapshot');
  const receive = `${ctx.openssh.commandLine(cipher)} ${ctx.openssh.target} ${q(`sudo -n btrfs receive ${RECV}`)}`;

  // The sshmux side runs in a node process of its own (children/btrfs-send.mjs: a new pool and
  // one sendSnapshot, timed from the call), and its CPU is that process's alone, as the OpenSSH
  // side's is the ssh process's. In the bench's own process the harness (tsx, its heap, its
  // timers) inflated sshmux's CPU per GiB.
  const side = (source: string, parent: string | null, payload: number, name: string) => ({
    label: 'sendSnapshot (new SshPool, own node process)',
    notMeasured: missing,
    timeoutMs: 60_000 + (payload / (5 * 1024 * 1024)) * 1000,
    minLinkBytes: payload,
    run: async () => {
      await drop(name);
      const args = btrfsChildArgs(ctx.endpoint, cipher, { source, target: `bench:${RECV}`, parent });
      const r = await run(process.execPath, [BTRFS_CHILD, JSON.stringify(args)], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`sendSnapshot child failed (${r.code}): ${r.stderr.slice(-500)}`);
      const { ms, cpuSec } = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
        ms: number;
        cpuSec: number;
      };
      return { value: mibPerSec(payload, ms), cpuPerGiB: cpuSec / (payload / GiB) };
    },
  });
  const openssh = (sendArgs: string, payload: number, name: string) => ({
    label: 'btrfs send | ssh host sudo -n btrfs receive',
    timeoutMs: 60_000 + (payload / (5 * 1024 * 1024)) * 1000,
    minLinkBytes: payload,
    run: async () => {
      await drop(name);
      const r = await sh(`btrfs send -q ${sendArgs} | ${TIME_CPU} ${receive}`);
      if (r.code !== 0) throw new Error(`btrfs send | ssh receive failed (${r.code}): ${r.stderr}`);
      const cpu = timeCpu(r.stderr);
      return {
        value: mibPerSec(payload, r.ms),
        ...(cpu !== undefined && { cpuPerGiB: cpu / (payload / GiB) }),
      };
    },
  });

  const rows: Row[] = [];
  const full = await alternate(
    ctx,
    'btrfs full',
    ctx.sizes.heavyRounds,
    side(snap1, null, bytes, `${tag}snap1`),
    openssh(q(snap1), bytes, `${tag}snap1`),
  );
  rows.push(
    makeRow({
      id: 'btrfs-full',
      group,
      title: `${fullTitle}, payload MiB/s`,
      unit: 'MiB/s',
      better: 'higher',
      ...full,
      target: wanOr(ctx, 'btrfs send | ssh receive', ratioTarget('≥ 1.0× OpenSSH', 1.0)),
    }),
  );
  // The parent must be on the destination for the incremental rounds.
  await drop(`${tag}snap1`);
  // Over loopback even in the WAN profile: this is setup, not a measured side.
  const direct = new OpenSsh(directEndpoint(ctx.sshd), ctx.tmp).commandLine(cipher);
  await shOk(
    `btrfs send -q ${q(snap1)} | ${direct} ${ctx.openssh.target} ${q(`sudo -n btrfs receive ${RECV}`)}`,
  );
  const inc = await alternate(
    ctx,
    'btrfs incremental',
    ctx.sizes.heavyRounds,
    side(snap2, snap1, incBytes, `${tag}snap2`),
    openssh(`-p ${q(snap1)} ${q(snap2)}`, incBytes, `${tag}snap2`),
  );
  rows.push(
    makeRow({
      id: 'btrfs-incremental',
      group,
      title: `${incTitle}, payload MiB/s`,
      unit: 'MiB/s',
      better: 'higher',
      ...inc,
      target: wanOr(ctx, 'btrfs send | ssh receive', ratioTarget('≥ 1.0× OpenSSH', 1.0)),
    }),
  );
  await drop(`${tag}snap2`);
  await drop(`${tag}snap1`);
  // The resume row models its own link (rateLimit) and runs in the loopback section only.
  if (!ctx.link) {
    rows.push(
      await btrfsResumeRow(
        ctx,
        {
          child: BTRFS_CHILD,
          args: btrfsChildArgs(directEndpoint(ctx.sshd), cipher, {
            source: snap1,
            target: `bench:${RECV}`,
            parent: null,
          }),
          reset: () => drop(`${tag}snap1`).then(() => ctx.sshd.sh(`rm -rf ${RECV}/.sshmux-resume`)),
          bytes,
        },
        missing,
      ),
    );
  }
  await shOk(`btrfs -q subvolume delete ${q(snap2)} ${q(snap1)} ${q(data)}`);
  return rows;
}
