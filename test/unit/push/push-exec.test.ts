import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { compareManifests, manifestsEqual } from '../../../src/manifest/compare.js';
import { localManifest } from '../../../src/manifest/manifest.js';
import { push } from '../../../src/push/push.js';
import { describePosix } from '../../helpers/posix-only.js';
import { makeLocalTree } from '../manifest/helpers.js';
import { localRunner } from '../manifest/local-runner.js';

/** The whole push flow through the exec transport, with the "remote" being the local sh. */
describePosix('sh')('push over exec channels (remote scripts run by the local sh)', () => {
  let src: string;
  beforeAll(() => {
    src = makeLocalTree({ SMALL: '60', SPARSE: '3M' });
  });
  const base = mkdtempSync(path.join(os.tmpdir(), 'sshmux-push-'));
  const dst = path.join(base, "-dest 'x'\n");
  const runner = localRunner();
  const tree = { dest: 'local', path: dst };
  afterAll(() => {
    rmSync(path.dirname(src), { recursive: true, force: true });
    rmSync(base, { recursive: true, force: true });
  });

  it('copies the tree with modes, mtimes and symlinks, then verifies', async () => {
    const r = await push(runner, src, tree, { transport: 'exec', verify: true });
    expect(r.uploaded).toHaveLength(60 + 18);
    expect(r.verified).toBe(true);
    expect(r.symlinks.sort()).toEqual(['link', 'link-to-file']);
    expect(manifestsEqual(compareManifests(await localManifest(src), await localManifest(dst)))).toBe(true);
    const a = statSync(path.join(src, 'sub dir/-nested/file'));
    const b = statSync(path.join(dst, 'sub dir/-nested/file'));
    expect(Math.floor(b.mtimeMs / 1000)).toBe(Math.floor(a.mtimeMs / 1000));
    expect(b.mode).toBe(a.mode);
  });

  it('transfers nothing the second time, and only a touched file after that', async () => {
    const again = await push(runner, src, tree, { transport: 'exec' });
    expect(again).toMatchObject({ uploaded: [], symlinks: [], bytesSent: 0, unchanged: 60 + 18 + 2 });
    const touched = path.join(src, 'many/0/f7');
    utimesSync(touched, new Date(), new Date(Date.now() + 5_000));
    const one = await push(runner, src, tree, { transport: 'exec' });
    expect(one.uploaded).toEqual(['many/0/f7']);
    expect(one.bytesSent).toBe(statSync(touched).size);
  });

  it('continues a leftover temporary file whose prefix matches, and starts over when it does not', async () => {
    const name = 'sparse.img';
    writeFileSync(path.join(src, name), Buffer.alloc(3 << 20, 7));
    // The tree's own sparse.img may have been written within this same second: size and mtime
    // would then say "unchanged" and nothing would be pushed (a flake seen in loaded CI runs).
    utimesSync(path.join(src, name), new Date(), new Date(Date.now() + 3_000));
    const tmp = path.join(dst, `.${name}.sshmux-partial`);
    writeFileSync(tmp, Buffer.alloc(1 << 20, 7));
    const resumed = await push(runner, src, tree, { transport: 'exec' });
    expect(resumed).toMatchObject({ uploaded: [name], resumed: [name], bytesSent: 2 << 20 });
    expect(readFileSync(path.join(dst, name)).equals(readFileSync(path.join(src, name)))).toBe(true);

    writeFileSync(path.join(src, name), Buffer.alloc(3 << 20, 8));
    utimesSync(path.join(src, name), new Date(), new Date(Date.now() + 10_000)); // another second
    writeFileSync(tmp, Buffer.alloc(1 << 20, 7)); // wrong prefix
    const over = await push(runner, src, tree, { transport: 'exec', verify: true });
    expect(over).toMatchObject({ uploaded: [name], resumed: [], bytesSent: 3 << 20, verified: true });
  });

  it('deletes extraneous remote entries only with delete', async () => {
    writeFileSync(path.join(dst, 'extra'), 'x');
    unlinkSync(path.join(src, '-n'));
    const kept = await push(runner, src, tree, { transport: 'exec' });
    expect(kept.deleted).toEqual([]);
    expect(statSync(path.join(dst, 'extra')).isFile()).toBe(true);
    const deleted = await push(runner, src, tree, { transport: 'exec', delete: true, verify: true });
    expect(deleted.deleted.sort()).toEqual(['-n', 'extra']);
    expect(deleted.verified).toBe(true);
  });

  it('reports progress in files and bytes', async () => {
    writeFileSync(path.join(src, 'progress'), Buffer.alloc(100_000, 1));
    const seen: { filesDone: number; bytesDone: number; bytesTotal: number }[] = [];
    await push(runner, src, tree, { transport: 'exec', onProgress: (p) => seen.push({ ...p }) });
    expect(seen.at(-1)).toMatchObject({ filesDone: 1, bytesDone: 100_000, bytesTotal: 100_000 });
  });

  it('stops on abort, keeping the temporary file, with an aborted error', async () => {
    writeFileSync(path.join(src, 'slow'), Buffer.alloc(400_000, 3));
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const p = push(runner, src, tree, {
      transport: 'exec',
      rateLimit: 200_000,
      signal: ac.signal,
      onProgress: (x) => {
        // Abort a while after data started flowing, so some of it reached the remote file.
        if (x.bytesDone > 50_000 && !timer) timer = setTimeout(() => ac.abort(), 300);
      },
    });
    await expect(p).rejects.toMatchObject({ kind: 'aborted' });
    const left = statSync(path.join(dst, '.slow.sshmux-partial')).size;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(400_000);
    const resumed = await push(runner, src, tree, { transport: 'exec', verify: true });
    expect(resumed.resumed).toEqual(['slow']);
  });

  it('finishes the other files and then fails with a local error when a file vanishes mid-push', async () => {
    writeFileSync(path.join(src, 'a-first'), 'a');
    writeFileSync(path.join(src, 'z-vanishes'), 'z');
    const err = await push(runner, src, tree, {
      transport: 'exec',
      concurrency: 1,
      onProgress: (p) => {
        if (p.path === 'a-first') unlinkSync(path.join(src, 'z-vanishes'));
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'local', retryable: false });
    expect((err as Error).message).toMatch(/z-vanishes: the local file vanished during the push/);
    expect(readFileSync(path.join(dst, 'a-first'), 'utf8')).toBe('a');
  });

  it('validates options with the bad value', async () => {
    await expect(push(runner, src, tree, { concurrency: 0 })).rejects.toThrow(/got `0` \(number\)/);
    await expect(push(runner, src, tree, { rateLimit: -1 })).rejects.toThrow(/got `-1` \(number\)/);
  });
});
