import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localManifest, remoteManifest } from '../../../src/manifest/manifest.js';
import { remoteScan } from '../../../src/manifest/remote-scan.js';
import { describePosix } from '../../helpers/posix-only.js';
import { makeLocalTree } from './helpers.js';
import { localRunner } from './local-runner.js';

describePosix('sh')('remoteManifest (remote script run by the local sh)', () => {
  // The root itself has a hostile name: newline, quote, leading dash, non-UTF-8 byte.
  const rootName = Buffer.from("-root\n'it\xe9'", 'latin1');
  let base: string;
  let root: Buffer;
  beforeAll(() => {
    const made = makeLocalTree({ SMALL: '300', SPARSE: '2M' });
    base = path.dirname(made);
    root = Buffer.concat([Buffer.from(`${base}/`), rootName]);
    renameSync(made, root);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('equals the local manifest of the same tree, whatever bytes the root path holds', async () => {
    const remote = await remoteManifest(localRunner(), { dest: 'local', path: root });
    const local = await localManifest(root);
    expect(remote.size).toBe(local.size);
    expect(remote).toEqual(local);
    expect(remote.get('link')).toEqual({ type: 'symlink', target: 'target with space' });
  });

  it('lists size, mtime and mode without hashing', async () => {
    const scan = await remoteScan(localRunner(), 'local', root.toString('latin1'), { hash: false });
    expect(scan.files.get('-n')).toMatchObject({ size: 7, mode: 0o644 });
    expect(scan.files.get('-n')?.sha256).toBeUndefined();
    expect(scan.dirs.has('sub dir/-nested')).toBe(true);
  });

  it('resolves a relative root against the login directory without treating a leading dash as an option', async () => {
    // The "login directory" is the parent; the root's name starts with `-`.
    const rel = { dest: 'local', path: rootName };
    expect((await remoteManifest(localRunner({ cwd: base }), rel)).size).toBeGreaterThan(300);
  });

  it('fails with a remote error when the directory does not exist', async () => {
    await expect(
      remoteManifest(localRunner(), { dest: 'local', path: `${base}/nope` }),
    ).rejects.toMatchObject({
      kind: 'remote',
      message: expect.stringMatching(/Cannot enter remote directory/),
    });
  });

  it('reports unreadable files and directories per path for an unprivileged reader', async () => {
    const dir = path.join(base, 'perm');
    mkdirSync(path.join(dir, 'closed'), { recursive: true });
    writeFileSync(path.join(dir, 'ok'), 'ok\n');
    writeFileSync(path.join(dir, 'secret'), 'secret\n');
    writeFileSync(path.join(dir, 'closed', 'hidden'), 'x');
    chmodSync(path.join(dir, 'secret'), 0);
    chmodSync(path.join(dir, 'closed'), 0);
    chmodSync(base, 0o755);
    const m = await remoteManifest(localRunner({ uid: 65534, gid: 65534 }), { dest: 'local', path: dir });
    expect(Object.fromEntries(m)).toEqual({
      closed: { type: 'error', message: 'directory not readable: its contents are unknown' },
      ok: { type: 'file', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 3 },
      secret: { type: 'error', message: 'Permission denied' },
    });
  });
});
