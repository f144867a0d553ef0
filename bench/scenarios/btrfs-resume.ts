import { alternate, makeRow, ratioTarget } from '../lib/measure.js';
import { run } from '../lib/proc.js';
import { formatBytes } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';

/** How the btrfs scenario runs its sendSnapshot child (children/btrfs-send.mjs). */
export interface ResumeBench {
  child: string;
  /** The child's JSON argument for a full send of the snapshot into the receiving directory. */
  args: Record<string, unknown>;
  /** Delete the received copy (and any resume spool) before a round. */
  reset: () => Promise<unknown>;
  /** Bytes of the snapshot's payload. */
  bytes: number;
}

/** The link the row models: resume saves bytes on the link, not work on the disks. */
const LINK = '32M';

/**
 * After a full send interrupted at 60 % (the receiver's spool kept), the time of the rerun:
 * resumed (the default: only the rest is sent) vs restarted (`resume: false`: from zero), over
 * a link of LINK bytes/s (`rateLimit`; the container's loopback is no link: there, replaying
 * the spool and regenerating the prefix cost more than sending it again). Both sides are
 * sshmux, same snapshot, same interruption, alternated per round.
 */
export async function btrfsResumeRow(ctx: Ctx, b: ResumeBench, missing: string | undefined): Promise<Row> {
  const child = async (extra: Record<string, unknown>) => {
    const r = await run(process.execPath, [b.child, JSON.stringify({ ...b.args, ...extra })], {
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`sendSnapshot child failed (${r.code}): ${r.stderr.slice(-500)}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ms: number; resumedBytes: number };
  };
  const side = (label: string, resume: boolean) => ({
    label,
    notMeasured: missing,
    timeoutMs: 600_000,
    run: async () => {
      await b.reset();
      await child({ abortAfterBytes: Math.floor(0.6 * b.bytes), rateLimit: LINK });
      const r = await child({ resume, rateLimit: LINK });
      if (resume !== r.resumedBytes > 0)
        throw new Error(`resume ${resume} but ${r.resumedBytes} bytes replayed`);
      return { value: r.ms / 1000 };
    },
  });
  const res = await alternate(
    ctx,
    'btrfs resume',
    ctx.sizes.heavyRounds,
    side('rerun resumes (default)', true),
    side('rerun restarts (resume: false)', false),
  );
  await b.reset();
  return makeRow({
    id: 'btrfs-resume',
    group: 'btrfs send',
    title: `full ${formatBytes(b.bytes)} interrupted at 60 %, rerun time over a ${LINK}/s link: resumed vs restarted`,
    unit: 's',
    better: 'lower',
    sshmux: res.sshmux,
    openssh: res.openssh,
    target: ratioTarget('≤ 0.7× restarted', 0.7),
  });
}
