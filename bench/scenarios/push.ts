import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { alternateMany, makeRow, ratioTarget, type SideSpec } from '../lib/measure.js';
import { USER } from '../lib/openssh.js';
import { hostFor, poolMissing, usingPool } from '../lib/pool.js';
import { q, sh, shOk } from '../lib/proc.js';
import { formatBytes, mibPerSec } from '../lib/stats.js';
import { makeTree } from '../lib/tree.js';
import type { Ctx, Row } from '../lib/types.js';

const SCP = '/usr/bin/scp';
const REMOTE = `/home/${USER}/push`;

/** `scp`'s options: ssh's, with `-P` for the port (scp's `-p` keeps times). */
function scpOptions(ctx: Ctx, cipher: string): string[] {
  const o = ctx.openssh.options(cipher);
  const i = o.indexOf('-p');
  return [...o.slice(0, i), '-P', ...o.slice(i + 1)];
}

/** A local tree (`files` files of about `bytes` in total) or one random file of `bytes`; returns its size. */
async function makeSource(dir: string, files: number, bytes: number): Promise<number> {
  if (files > 1) return makeTree(dir, files, bytes);
  mkdirSync(dir, { recursive: true });
  // Random data, so nothing along the way can compress it.
  await shOk(`head -c ${bytes} /dev/urandom > ${q(path.join(dir, 'big.bin'))}`);
  return bytes;
}

/**
 * Push a local tree to a fresh remote directory, cold (a new pool, a new ssh per side):
 * `push()` vs `rsync -a -e ssh` and (one big file) OpenSSH `scp`. MiB/s of payload.
 */
export async function pushScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const rows: Row[] = [];
  const { pushSmallFiles, pushSmallBytes, pushBigBytes } = ctx.sizes;
  const cases = [
    { tag: 'small', files: pushSmallFiles, bytes: pushSmallBytes, title: `${pushSmallFiles} small files` },
    { tag: 'big', files: 1, bytes: pushBigBytes, title: `one ${formatBytes(pushBigBytes)} file` },
  ];
  for (const c of cases) {
    const dir = path.join(ctx.tmp, `push-${c.tag}`);
    ctx.log(`  push: making ${c.title} (${formatBytes(c.bytes)})`);
    const payload = await makeSource(dir, c.files, c.bytes);
    // Warm the page cache for every side alike.
    await shOk(`find ${q(dir)} -type f -print0 | xargs -0 cat > /dev/null`);
    const fresh = () => ctx.sshd.sh(`rm -rf ${REMOTE} && mkdir -p ${REMOTE}`, USER);
    const check = async (): Promise<void> => {
      const out = await ctx.sshd.sh(
        `find ${REMOTE} -type f | wc -l; du -sb --apparent-size ${REMOTE} | cut -f1`,
        USER,
      );
      const [n, b] = out.trim().split(/\s+/).map(Number);
      if (n !== c.files) throw new Error(`the remote has ${n} files, expected ${c.files}`);
      if ((b ?? 0) < payload) throw new Error(`the remote has ${b} bytes, expected ≥ ${payload}`);
    };
    const timeoutMs = 120_000 + (payload / (256 * 1024)) * 1000 + c.files * 200;
    const minLinkBytes = payload;
    const openssh = ctx.openssh.commandLine(cipher);
    const sides: SideSpec[] = [
      {
        label: 'new SshPool + push()',
        notMeasured: poolMissing(ctx) ?? ctx.sshmux.missing('push'),
        timeoutMs,
        minLinkBytes,
        run: async (_round, signal) => {
          await fresh();
          const host = hostFor(ctx, cipher);
          const ms = await usingPool(ctx, undefined, async (pool) => {
            const t0 = performance.now();
            await ctx.sshmux.mod.push!(pool, dir, { dest: host, path: REMOTE }, { signal });
            return performance.now() - t0;
          });
          await check();
          return { value: mibPerSec(payload, ms) };
        },
      },
      {
        label: 'rsync -a -e ssh',
        timeoutMs,
        minLinkBytes,
        run: async () => {
          await fresh();
          const r = await sh(
            `rsync -a -e ${q(openssh)} ${q(`${dir}/`)} ${q(`${ctx.openssh.target}:${REMOTE}/`)}`,
            {
              timeoutMs,
            },
          );
          if (r.code !== 0) throw new Error(`rsync failed (${r.code}): ${r.stderr.slice(-500)}`);
          await check();
          return { value: mibPerSec(payload, r.ms) };
        },
      },
    ];
    if (c.files === 1) {
      sides.push({
        label: 'scp',
        timeoutMs,
        minLinkBytes,
        run: async () => {
          await fresh();
          const args = [
            ...scpOptions(ctx, cipher),
            path.join(dir, 'big.bin'),
            `${ctx.openssh.target}:${REMOTE}/`,
          ];
          const r = await sh([SCP, ...args].map(q).join(' '), { timeoutMs });
          if (r.code !== 0) throw new Error(`scp failed (${r.code}): ${r.stderr.slice(-500)}`);
          await check();
          return { value: mibPerSec(payload, r.ms) };
        },
      });
    }
    const results = await alternateMany(ctx, `push ${c.tag}`, ctx.sizes.heavyRounds, sides);
    const [mine, ...others] = results;
    others.forEach((other, i) => {
      const what = sides[i + 1]!.label;
      rows.push(
        makeRow({
          id: `push-${c.tag}-${what.split(' ')[0]}`,
          group: 'push',
          title: `${c.title} (${formatBytes(payload)}) vs ${what}, payload MiB/s`,
          unit: 'MiB/s',
          better: 'higher',
          sshmux: mine!,
          openssh: other,
          target: ratioTarget(`ahead of ${what}`, 1.0),
        }),
      );
    });
    rmSync(dir, { recursive: true, force: true });
  }
  await ctx.sshd.sh(`rm -rf ${REMOTE}`, USER);
  return rows;
}
