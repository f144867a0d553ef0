import { rmSync } from 'node:fs';
import path from 'node:path';
import { alternate, makeRow, ratioTarget, wanOr } from '../lib/measure.js';
import { USER } from '../lib/openssh.js';
import { hostFor, poolMissing, usingPool } from '../lib/pool.js';
import { q, run, sh, shOk } from '../lib/proc.js';
import { formatBytes, mibPerSec } from '../lib/stats.js';
import { makeTree } from '../lib/tree.js';
import type { Ctx, Row } from '../lib/types.js';

const REMOTE_TREE = `/home/${USER}/tree`;

/** SHA-256 manifests of a tree: localManifest / remoteManifest vs `find -print0 | xargs -0 sha256sum`. */
export async function manifestScenario(ctx: Ctx): Promise<Row[]> {
  const cipher = ctx.ciphers[0]!;
  const { manifestFiles: files, manifestBytes: size } = ctx.sizes;
  const local = path.join(ctx.tmp, 'tree');
  ctx.log(`  manifest: making a ${files}-file / ${formatBytes(size)} tree and copying it into the container`);
  const bytes = makeTree(local, files, size);
  const cp = await run('docker', ['cp', local, `${ctx.sshd.containerId}:${REMOTE_TREE}`]);
  if (cp.code !== 0) throw new Error(`docker cp failed: ${cp.stderr}`);
  await ctx.sshd.sh(`chown -R ${USER}:${USER} ${REMOTE_TREE}`);
  const gnu = 'find . -type f -print0 | xargs -0 sha256sum';
  // Warm the page cache on both ends for both sides alike.
  await shOk(`cd ${q(local)} && ${gnu} > /dev/null`);
  await ctx.sshd.sh(`cd ${REMOTE_TREE} && ${gnu} > /dev/null`, USER);
  const checkCount = (m: Map<string, unknown>): void => {
    if (m.size !== files) throw new Error(`manifest has ${m.size} entries, expected ${files}`);
  };
  const timeoutMs = 60_000 + (bytes / (5 * 1024 * 1024)) * 1000;

  // The local row does not cross a link: the WAN profile has the remote one only.
  const localRes = ctx.link
    ? undefined
    : await alternate(
        ctx,
        'manifest local',
        ctx.sizes.heavyRounds,
        {
          label: 'localManifest',
          notMeasured: ctx.sshmux.missing('localManifest'),
          timeoutMs,
          run: async () => {
            const t0 = performance.now();
            const m = await ctx.sshmux.mod.localManifest!(local);
            const ms = performance.now() - t0;
            checkCount(m);
            return { value: mibPerSec(bytes, ms) };
          },
        },
        {
          label: 'find -print0 | xargs -0 sha256sum',
          run: async () => {
            const r = await sh(`cd ${q(local)} && ${gnu} > /dev/null`);
            if (r.code !== 0) throw new Error(`local sha256sum failed: ${r.stderr}`);
            return { value: mibPerSec(bytes, r.ms) };
          },
        },
      );
  const remoteRes = await alternate(
    ctx,
    'manifest remote',
    ctx.sizes.heavyRounds,
    {
      label: 'new SshPool + remoteManifest',
      minLinkBytes: files * 64,
      notMeasured: poolMissing(ctx) ?? ctx.sshmux.missing('remoteManifest'),
      timeoutMs,
      run: async () =>
        usingPool(ctx, undefined, async (pool) => {
          const host = hostFor(ctx, cipher);
          const t0 = performance.now();
          const m = await ctx.sshmux.mod.remoteManifest!(pool, { dest: host, path: REMOTE_TREE });
          const ms = performance.now() - t0;
          checkCount(m);
          return { value: mibPerSec(bytes, ms) };
        }),
    },
    {
      label: "ssh host 'find … | xargs -0 sha256sum'",
      minLinkBytes: files * 64,
      run: async () => {
        const r = await sh(
          `${ctx.openssh.commandLine(cipher)} ${ctx.openssh.target} ${q(`cd ${REMOTE_TREE} && ${gnu}`)} > /dev/null`,
        );
        if (r.code !== 0) throw new Error(`remote sha256sum failed: ${r.stderr}`);
        return { value: mibPerSec(bytes, r.ms) };
      },
    },
  );
  const title = `${files} files / ${formatBytes(size)}, MiB/s hashed`;
  const rows: Row[] = [];
  if (localRes) {
    rows.push(
      makeRow({
        id: 'manifest-local',
        group: 'manifest local',
        title,
        unit: 'MiB/s',
        better: 'higher',
        ...localRes,
        target: ratioTarget('≥ 1.0× GNU sha256sum', 1.0),
      }),
    );
  }
  rows.push(
    makeRow({
      id: 'manifest-remote',
      group: 'manifest remote',
      title,
      unit: 'MiB/s',
      better: 'higher',
      ...remoteRes,
      target: wanOr(ctx, 'GNU sha256sum over ssh', ratioTarget('≥ 1.0× GNU sha256sum over ssh', 1.0)),
    }),
  );
  // The WAN section runs this scenario again: it starts from nothing, on both ends.
  rmSync(local, { recursive: true, force: true });
  await ctx.sshd.sh(`rm -rf ${REMOTE_TREE}`);
  return rows;
}
