import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareManifests,
  localManifest,
  manifestsEqual,
  push,
  remoteManifest,
  type SshPool,
  sendSnapshot,
} from '../../src/index.js';
import { btrfsAvailable, CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { sha256 } from '../soak/checks.js';

/**
 * Names and arguments that a shell would act on. Each payload that could run a command tries
 * to create `CANARY_<n>` (in whatever directory it runs in); none may exist afterwards, and the
 * payload must arrive byte for byte as data. No `/` (they are also file names), no NUL.
 */
const PAYLOADS = [
  '; touch CANARY_1',
  '$(touch CANARY_2)',
  '`touch CANARY_3`',
  "'; touch CANARY_4; '",
  '"; touch CANARY_5; "',
  '\ntouch CANARY_6\n',
  '-rf',
  '--help',
  '-n',
  '*',
  '~',
  '~root',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
  '${IFS}touch${IFS}CANARY_7',
  '| touch CANARY_8',
  '&& touch CANARY_9',
  '> CANARY_10',
  'a b\tc',
  '\\',
  'it\'s "quoted" $(touch CANARY_11) `touch CANARY_12`',
  '!',
  '#not a comment',
];

const HOSTILE_DIR = '-x; touch CANARY_20 $(touch CANARY_21) \'q"\n~';

describe('hostile names and arguments reach the remote as data only', () => {
  let sshd: StartedSshd;
  let pool: SshPool;
  const btrfs = btrfsAvailable();
  const local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-hostile-'));

  beforeAll(async () => {
    sshd = await startSshd({ btrfs });
    pool = sshd.pool({
      resolve: (dest) => sshd.hostConfig(dest === 'root' ? 'root' : 'backup'),
    });
  });
  afterAll(async () => {
    try {
      pool?.destroy();
      await sshd?.stop();
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });

  /** Every CANARY_* file anywhere in the container's file systems (root fs and the btrfs mount). */
  async function canaries(): Promise<string> {
    const r = await sshd.exec([
      'sh',
      '-c',
      `find / ${btrfs ? CONTAINER_BTRFS : ''} -xdev -name 'CANARY_*' 2>/dev/null; true`,
    ]);
    return r.stdout;
  }

  it('the canary check sees a payload that a shell does run (positive control)', async () => {
    await pool.exec('backup', `cd /tmp && echo ${PAYLOADS[0]!}`, { check: true });
    expect(await canaries()).toBe('/tmp/CANARY_1\n');
    await sshd.sh('rm /tmp/CANARY_1');
    expect(await canaries()).toBe('');
  });

  it('pool.exec(argv) passes every payload as one argument, byte for byte', async () => {
    const r = await pool.exec('backup', ['printf', '%s\\0', ...PAYLOADS], { encoding: 'utf8', check: true });
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(PAYLOADS);
    // As a command name too: nothing runs but the (missing) program of that exact name.
    for (const p of PAYLOADS.slice(0, 5)) {
      const bad = await pool.exec('backup', [p], { encoding: 'utf8' });
      expect(bad.exitCode).toBe(127);
    }
    expect(await canaries()).toBe('');
  });

  it('remoteManifest lists a tree of hostile names under a hostile root exactly', async () => {
    const root = `/home/backup/${HOSTILE_DIR}`;
    await pool.exec('backup', ['mkdir', '-p', '--', root], { check: true });
    for (const name of PAYLOADS) {
      await pool.exec('backup', ['sh', '-c', 'printf %s "$2" > "$1"', 'sh', `${root}/${name}`, name], {
        check: true,
      });
    }
    const m = await remoteManifest(pool, { dest: 'backup', path: root });
    expect([...m.keys()].sort()).toEqual([...PAYLOADS].sort());
    for (const name of PAYLOADS) {
      expect(m.get(name)).toMatchObject({ type: 'file', sha256: sha256(Buffer.from(name)) });
    }
    expect(await canaries()).toBe('');
  });

  it('push to a hostile path of hostile names creates exactly that tree and runs nothing', async () => {
    const src = path.join(local, 'push-src');
    mkdirSync(path.join(src, '$(touch CANARY_30)'), { recursive: true });
    for (const name of PAYLOADS) writeFileSync(path.join(src, name), `content of ${name}`);
    writeFileSync(path.join(src, '$(touch CANARY_30)', '`touch CANARY_31`'), 'nested');
    const target = `/home/backup/push ${HOSTILE_DIR}`;
    const r = await push(pool, src, { dest: 'backup', path: target }, { verify: true });
    expect(r.verified).toBe(true);
    const [want, got] = await Promise.all([
      localManifest(src),
      remoteManifest(pool, { dest: 'backup', path: target }),
    ]);
    expect(manifestsEqual(compareManifests(want, got))).toBe(true);
    // Exactly the intended effect: one new directory in the home, nothing else.
    const home = await pool.exec('backup', ['ls', '-A', '/home/backup'], { encoding: 'utf8' });
    expect(home.stdout.split('\n').filter((l) => l.startsWith('push '))).toHaveLength(1);
    expect(await canaries()).toBe('');
  });

  it.runIf(btrfs)(
    'btrfs send into a hostile target directory, of a hostile snapshot name, receives just that',
    async () => {
      const src = sshd.btrfs!.source;
      const vol = path.join(src, 'vol');
      execFileSync('btrfs', ['subvolume', 'create', vol], { stdio: 'ignore' });
      writeFileSync(path.join(vol, 'data'), 'hostile names\n');
      const snapName = '-s $(touch CANARY_40) `touch CANARY_41`; x';
      const snap = path.join(src, snapName);
      execFileSync('btrfs', ['subvolume', 'snapshot', '-r', vol, snap], { stdio: 'ignore' });
      const dir = `${CONTAINER_BTRFS}/${HOSTILE_DIR.replace('\n', ' ')}`;
      await pool.exec('root', ['mkdir', '-p', '--', dir], { check: true });
      const r = await sendSnapshot(pool, { source: snap, target: `backup:${dir}`, parent: null });
      expect(r).toMatchObject({ status: 'sent', name: snapName, path: `${dir}/${snapName}` });
      expect(r.received.readonly).toBe(true);
      expect(r.received.receivedUuid).toBe(r.sourceUuid);
      const listing = await pool.exec('root', ['ls', '-A', '--', dir], { encoding: 'utf8', check: true });
      expect(listing.stdout).toBe(`${snapName}\n`);
      expect(await canaries()).toBe('');
    },
  );
});
