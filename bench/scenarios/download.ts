import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alternate, makeRow, ratioTarget } from '../lib/measure.js';
import { hostFor, poolMissing, usingPool } from '../lib/pool.js';
import { run } from '../lib/proc.js';
import { formatBytes } from '../lib/stats.js';
import type { Ctx, Row } from '../lib/types.js';

const SFTP = '/usr/bin/sftp';
const CIPHER = 'aes128-gcm@openssh.com';
const REMOTE = 'bench-download.bin';

/** sftp takes ssh's options except the port, which is `-P`. */
function sftpOptions(ctx: Ctx): string[] {
  const o = ctx.openssh.options(CIPHER);
  const i = o.indexOf('-p');
  return i === -1 ? o : [...o.slice(0, i), '-P', ...o.slice(i + 1)];
}

/** One file from the server: `download()` (pipelined READs, temp + rename) vs `sftp -b` `get`. */
export async function downloadScenario(ctx: Ctx): Promise<Row[]> {
  const bytes = ctx.sizes.downloadBytes;
  await ctx.sshd.sh(
    `head -c ${bytes} /dev/urandom > /home/backup/${REMOTE} && chown backup: /home/backup/${REMOTE}`,
  );
  const local = path.join(ctx.tmp, 'downloaded.bin');
  const batch = path.join(ctx.tmp, 'download.sftp');
  writeFileSync(batch, `get ${REMOTE} ${local}\n`);
  const timeoutMs = 60_000 + (bytes / (1 << 20)) * 1000;
  const missing = poolMissing(ctx) ?? ctx.sshmux.missing('download');
  try {
    const res = await alternate(
      ctx,
      'download',
      ctx.sizes.heavyRounds,
      {
        label: 'new SshPool, download(pool, host, file, local), connect included',
        notMeasured: missing,
        timeoutMs,
        run: async (_round, signal) =>
          usingPool(ctx, undefined, async (pool) => {
            const host = hostFor(ctx, CIPHER);
            // Connect included on both sides: a fresh pool, as a fresh sftp.
            const t0 = performance.now();
            await ctx.sshmux.mod.download!(pool, host, REMOTE, local, { signal });
            const ms = performance.now() - t0;
            rmSync(local, { force: true });
            return { value: ms / 1000 };
          }),
      },
      {
        label: 'sftp -b (get), connect included',
        timeoutMs,
        run: async () => {
          const t0 = performance.now();
          const r = await run(SFTP, [...sftpOptions(ctx), '-q', '-b', batch, ctx.openssh.target], {
            timeoutMs,
          });
          const ms = performance.now() - t0;
          if (r.code !== 0) throw new Error(`sftp get failed (${r.code}): ${r.stderr}`);
          rmSync(local, { force: true });
          return { value: ms / 1000 };
        },
      },
    );
    return [
      makeRow({
        id: 'download-file',
        group: 'file download',
        title: `download ${formatBytes(bytes)}, ${CIPHER.split('@')[0]}`,
        unit: 's',
        better: 'lower',
        ...res,
        target: ratioTarget('≤ 1.1× sftp', 1.1),
      }),
    ];
  } finally {
    await ctx.sshd.sh(`rm -f /home/backup/${REMOTE}`);
  }
}
