import { appendFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareManifests } from '../../src/manifest/compare.js';
import { localManifest, remoteManifest } from '../../src/manifest/manifest.js';
import { rawFromString } from '../../src/manifest/raw-path.js';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { makeLocalTree } from '../unit/manifest/helpers.js';
import { cliConfig, containerBytes, makeRemoteTree, remoteSpec } from './manifest-env.js';

const TREE = '/srv/tree';
const SMALL_TREE = '/srv/small';
const FIXED_FILES = 18;

describe('manifests against a real sshd', () => {
  let sshd: StartedSshd;
  let cli: ReturnType<typeof cliConfig>;
  const locals: string[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
    cli = cliConfig(sshd);
    await makeRemoteTree(sshd, TREE, { SMALL: '10000', SPARSE: '1G', UNREADABLE: '1' });
    await makeRemoteTree(sshd, SMALL_TREE, { SMALL: '300', SPARSE: '16M' });
  });
  afterAll(async () => {
    await sshd?.stop();
    for (const dir of locals) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('`sshmux hashsum` prints exactly what GNU sha256sum prints on the server', async () => {
    const reference = await containerBytes(
      sshd,
      `cd ${TREE} && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum -- 2>/dev/null`,
      'backup',
    );
    const r = await runCli(['hashsum', ...cli.args, remoteSpec(TREE)], { env: cli.env, timeoutMs: 120_000 });
    expect(r.stderr).toBe('sshmux: hashsum: unreadable: Permission denied\n');
    expect(r.code).toBe(1);
    // Escaped lines (backslash, newline, CR) and the non-UTF-8 name are in there.
    expect(reference.toString('latin1')).toMatch(/^\\[0-9a-f]{64} {2}new\\nline$/m);
    expect(reference.includes(Buffer.from('latin1-\xe9t\xe9-\xff', 'latin1'))).toBe(true);
    expect(reference.toString().split('\n')).toHaveLength(10_000 + FIXED_FILES + 1);
    expect(r.stdout.equals(reference)).toBe(true);
  });

  it('`sshmux hashsum --json` lists files, symlinks and unreadable files, with exact bytes for non-UTF-8 names', async () => {
    const r = await runCli(['hashsum', ...cli.args, '--json', remoteSpec(TREE)], {
      env: cli.env,
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(1);
    const entries = r.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(10_000 + FIXED_FILES + 2 + 1);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('link')).toEqual({ path: 'link', type: 'symlink', target: 'target with space' });
    expect(byPath.get('unreadable')).toEqual({
      path: 'unreadable',
      type: 'error',
      error: 'Permission denied',
    });
    expect(byPath.get('sparse.img')).toMatchObject({ size: 1 << 30 });
    expect(byPath.get('latin1-\\xe9t\\xe9-\\xff')).toMatchObject({
      type: 'file',
      pathBase64: Buffer.from('latin1-\xe9t\xe9-\xff', 'latin1').toString('base64'),
    });
  });

  it('remoteManifest equals localManifest of the same tree built locally, but for the unreadable file', async () => {
    const local = makeLocalTree({ SMALL: '10000', SPARSE: '1G' });
    locals.push(local);
    await using pool = sshd.pool();
    const [remote, mine] = await Promise.all([
      remoteManifest(pool, { dest: sshd.hostConfig(), path: TREE }),
      localManifest(local),
    ]);
    expect(remote.get(rawFromString('ünïcødé ✓'))?.type).toBe('file');
    expect(compareManifests(mine, remote)).toMatchObject({
      missing: [],
      mismatched: [],
      extra: ['unreadable'],
    });
    expect(remote.get('unreadable')).toEqual({ type: 'error', message: 'Permission denied' });
  });

  it('`sshmux verify` exits 0 for an identical copy and 1 naming exactly the differences', async () => {
    const local = makeLocalTree({ SMALL: '300', SPARSE: '16M' });
    locals.push(local);
    const spec = remoteSpec(SMALL_TREE);
    const same = await runCli(['verify', ...cli.args, local, spec], { env: cli.env });
    expect(same.stderr).toBe('');
    expect(same.stdout.toString()).toBe(
      `${300 + FIXED_FILES + 2} identical, 0 missing on remote, 0 extra on remote, 0 different, 0 unreadable\n`,
    );
    expect(same.code).toBe(0);

    appendFileSync(path.join(local, 'new\nline'), 'x'); // one byte more
    unlinkSync(path.join(local, '-n')); // the remote now has an extra file
    writeFileSync(path.join(local, 'only here'), 'new\n'); // the remote misses one
    const diff = await runCli(['verify', ...cli.args, local, spec], { env: cli.env });
    expect(diff.stdout.toString()).toBe(
      [
        'missing on remote: only here',
        'extra on remote: -n',
        'differs: new\\nline',
        `${300 + FIXED_FILES + 2 - 2} identical, 1 missing on remote, 1 extra on remote, 1 different, 0 unreadable`,
        '',
      ].join('\n'),
    );
    expect(diff.code).toBe(1);
  });

  it('`sshmux verify` exits 2 when an entry cannot be read, and when the remote directory does not exist', async () => {
    const local = makeLocalTree({ SMALL: '10', SPARSE: '0' });
    locals.push(local);
    const unreadable = await runCli(['verify', ...cli.args, local, remoteSpec(TREE)], {
      env: cli.env,
      timeoutMs: 120_000,
    });
    expect(unreadable.stdout.toString()).toMatch(/^unreadable on remote: unreadable: Permission denied$/m);
    expect(unreadable.code).toBe(2);
    const nodir = await runCli(['verify', ...cli.args, local, remoteSpec('/srv/none')], { env: cli.env });
    expect(nodir.stderr).toMatch(/Cannot enter remote directory/);
    expect(nodir.code).toBe(2);
  });
});
