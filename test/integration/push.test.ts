import { randomBytes } from 'node:crypto';
import { rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../src/config/plain.js';
import { remoteManifest } from '../../src/manifest/manifest.js';
import { push } from '../../src/push/push.js';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { makeLocalTree } from '../unit/manifest/helpers.js';
import { cliConfig, containerBytes, remoteSpec } from './manifest-env.js';

const FIXED = 18;
const SMALL = 10_000;
const BIG = 'big.bin';
const BIG_SIZE = 48 << 20;

describe('push against a real sshd', () => {
  let sshd: StartedSshd;
  let src: string;
  let cli: ReturnType<typeof cliConfig>;
  // Relative to backup's login directory, with a hostile name of its own.
  const dst = "pushed -'x'";
  const tree = () => ({ dest: sshd.hostConfig(), path: dst });
  const remoteStat = async (rel: string) =>
    (await containerBytes(sshd, `stat -c '%s %a %Y' -- "/home/backup/${dst}/${rel}"`)).toString().trim();

  beforeAll(async () => {
    sshd = await startSshd();
    cli = cliConfig(sshd);
    // The tree: hostile names, 10,000 small files and a 1 GiB sparse file.
    src = makeLocalTree({ SMALL: String(SMALL), SPARSE: '1G' });
    writeFileSync(path.join(src, BIG), randomBytes(BIG_SIZE));
  });
  afterAll(async () => {
    await sshd?.stop();
    if (src) rmSync(path.dirname(src), { recursive: true, force: true });
  });

  it('pushes the hostile tree with 10,000 small files and verifies it', async () => {
    await using pool = sshd.pool();
    const r = await push(pool, src, tree(), { verify: true, concurrency: 6 });
    expect(r.uploaded).toHaveLength(SMALL + FIXED + 1);
    expect(r.symlinks.sort()).toEqual(['link', 'link-to-file']);
    expect(r.verified).toBe(true);
    const m = await remoteManifest(pool, tree());
    expect(m.get('latin1-\xe9t\xe9-\xff')?.type).toBe('file');
    expect(m.get('link')).toEqual({ type: 'symlink', target: 'target with space' });
    // Mode and mtime are kept.
    const local = statSync(path.join(src, 'sub dir/-nested/file'));
    expect(await remoteStat('sub dir/-nested/file')).toBe(
      `7 ${(local.mode & 0o777).toString(8)} ${Math.floor(local.mtimeMs / 1000)}`,
    );
    // No temporary file is left behind.
    expect([...m.keys()].filter((p) => p.includes('.sshmux-partial'))).toEqual([]);
  });

  it('transfers nothing the second time, then only the touched file', async () => {
    await using pool = sshd.pool();
    const again = await push(pool, src, tree());
    expect(again).toMatchObject({
      uploaded: [],
      bytesSent: 0,
      deleted: [],
      unchanged: SMALL + FIXED + 1 + 2,
    });
    const touched = path.join(src, 'many/3/f1717');
    utimesSync(touched, new Date(), new Date(Date.now() + 60_000));
    const one = await push(pool, src, tree());
    expect(one.uploaded).toEqual(['many/3/f1717']);
    expect(one.bytesSent).toBe(statSync(touched).size);
  });

  it('deletes extraneous remote files only with delete', async () => {
    await sshd.sh(
      `touch "/home/backup/${dst}/remote-only" && mkdir -p "/home/backup/${dst}/old/dir"`,
      'backup',
    );
    unlinkSync(path.join(src, '-n'));
    await using pool = sshd.pool();
    const kept = await push(pool, src, tree());
    expect(kept.deleted).toEqual([]);
    const deleted = await push(pool, src, tree(), { delete: true, verify: true });
    expect(deleted.deleted).toEqual(['-n', 'old', 'remote-only']);
    expect(deleted.verified).toBe(true);
  });

  it('resumes a file cut mid-transfer by a dropped connection and ends verified', async () => {
    writeFileSync(path.join(src, BIG), randomBytes(BIG_SIZE));
    utimesSync(path.join(src, BIG), new Date(), new Date(Date.now() + 120_000));
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    const viaProxy = plainHostConfig({
      host: sshd.host,
      port: proxy.port,
      user: 'backup',
      identityFiles: [sshd.keyPath],
      strictHostKeyChecking: 'yes',
    });
    const first = sshd.pool();
    let cut = false;
    const err = await push(
      first,
      src,
      { dest: viaProxy, path: dst },
      {
        rateLimit: 16 << 20,
        onProgress: (p) => {
          if (!cut && p.bytesDone > 12 << 20) {
            cut = true;
            proxy.cutAll();
          }
        },
      },
    ).catch((e: unknown) => e);
    await first.destroy();
    expect(err).toMatchObject({ kind: 'network', retryable: true });
    const partial = Number((await remoteStat(`.${BIG}.sshmux-partial`)).split(' ')[0]);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(BIG_SIZE);

    await using second = sshd.pool();
    const r = await push(second, src, { dest: viaProxy, path: dst }, { verify: true });
    expect(r.resumed).toEqual([BIG]);
    expect(r.bytesSent).toBe(BIG_SIZE - partial);
    expect(r.verified).toBe(true);
  });

  it('`sshmux push` pushes, reports progress on stderr and JSON on stdout', async () => {
    writeFileSync(path.join(src, 'cli-new'), 'from the cli\n');
    const r = await runCli(['push', ...cli.args, '--verify', '--json', src, remoteSpec(dst)], {
      env: cli.env,
      timeoutMs: 120_000,
    });
    expect(r.stderr).toMatch(/^push: 1\/1 files, /m);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ uploaded: ['cli-new'], verified: true });
  });
});
