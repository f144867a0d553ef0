import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI, startCli } from './mux-helpers.js';
import { localManifest, type Mode, remoteManifest, ScpRunner, writeHostileTree } from './scp-helpers.js';

let sshd: StartedSshd;
let scp: ScpRunner;
let local: string;
let tree: string;
const MODES: Mode[] = ['daemon', 'direct'];

beforeAll(async () => {
  sshd = await startSshd();
  scp = new ScpRunner(sshd);
  local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-scp-it-'));
  tree = path.join(local, 'tree');
  writeHostileTree(tree);
});

afterAll(async () => {
  await scp?.cleanup();
  await sshd?.stop();
  if (local) rmSync(local, { recursive: true, force: true });
});

describe.each(MODES)('sshmux scp (%s)', (mode) => {
  it('-r uploads a tree of hostile names byte-identical, links followed, no temporary names left', async () => {
    const r = await scp.scp(mode, ['-r', tree, scp.remote(`/tmp/up-${mode}`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // stdout is no terminal here: no progress meter, as with scp.
    expect(r.stdout.length).toBe(0);
    const theirs = await remoteManifest(sshd, `/tmp/up-${mode}`);
    expect(theirs).toBe(localManifest(tree));
    expect(theirs.split('\n').length).toBeGreaterThan(15);
    const leftovers = await sshd.exec([
      'sh',
      '-c',
      `find /tmp/up-${mode} -name '*.sshmux-*' -o -type l | wc -l`,
    ]);
    expect(leftovers.stdout.trim()).toBe('0');
  });

  it('-r downloads the tree back byte-identical', async () => {
    await sshd.sh(`rm -rf /tmp/down-src-${mode} && cp -a /tmp/up-${mode} /tmp/down-src-${mode}`);
    const dest = path.join(local, `down-${mode}`);
    const r = await scp.scp(mode, ['-r', scp.remote(`/tmp/down-src-${mode}`), dest]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(localManifest(dest)).toBe(localManifest(tree));
    expect(readdirSync(dest).filter((n) => n.includes('.sshmux-'))).toEqual([]);
  });

  it('-p keeps modification times and modes both ways', async () => {
    const dir = mkdtempSync(path.join(local, 'p-'));
    const file = path.join(dir, 'stamped');
    writeFileSync(file, 'old');
    chmodSync(file, 0o640);
    utimesSync(file, 1_000_000_000, 1_000_000_123);
    const up = await scp.scp(mode, ['-p', file, scp.remote(`/tmp/p-${mode}`)]);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect((await sshd.sh(`stat -c '%a %Y %X' /tmp/p-${mode}`)).trim()).toBe('640 1000000123 1000000000');
    await sshd.sh(`chmod 604 /tmp/p-${mode} && touch -m -d @1200000000 /tmp/p-${mode}`);
    const back = path.join(dir, 'back');
    const down = await scp.scp(mode, ['-p', scp.remote(`/tmp/p-${mode}`), back]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(statSync(back).mode & 0o777).toBe(0o604);
    expect(statSync(back).mtimeMs).toBe(1_200_000_000_000);
  });

  it('globs on the remote side, relative to the home directory, as scp does', async () => {
    await sshd.sh(
      'mkdir -p /root/g && cd /root/g && echo a > a.txt && echo b > b.txt && echo c > c.log && echo d > .d.txt',
    );
    const dest = mkdtempSync(path.join(local, 'glob-'));
    const r = await scp.scp(mode, [scp.remote('g/*.txt'), dest]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(dest).sort()).toEqual(['a.txt', 'b.txt']);
    const theirs = mkdtempSync(path.join(local, 'glob-ssh-'));
    expect((await scp.openssh([scp.remote('g/*.txt'), theirs])).code).toBe(0);
    expect(readdirSync(theirs).sort()).toEqual(readdirSync(dest).sort());
  });

  it('-3 copies remote to remote through this machine', async () => {
    await sshd.sh(
      `mkdir -p /tmp/r2r-${mode}/in /tmp/r2r-${mode}/out && head -c 3000000 /dev/urandom > /tmp/r2r-${mode}/in/blob && echo x > /tmp/r2r-${mode}/in/x`,
    );
    const r = await scp.scp(mode, [
      '-3',
      '-r',
      scp.remote(`/tmp/r2r-${mode}/in`),
      scp.remote(`/tmp/r2r-${mode}/out`, 'root'),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(await remoteManifest(sshd, `/tmp/r2r-${mode}/out/in`)).toBe(
      await remoteManifest(sshd, `/tmp/r2r-${mode}/in`),
    );
  });

  it('a file that cannot be read fails with exit 1 and leaves nothing behind; the rest is copied', async () => {
    await sshd.sh(
      `rm -rf /home/backup/f-${mode} && mkdir /home/backup/f-${mode} && echo ok > /home/backup/f-${mode}/ok && echo no > /home/backup/f-${mode}/secret && chmod 000 /home/backup/f-${mode}/secret && chown -R backup /home/backup/f-${mode}`,
    );
    const dest = path.join(local, `fail-${mode}`);
    const r = await scp.scp(mode, ['-r', scp.remote(`f-${mode}`, 'backup'), dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`scp: remote open "/home/backup/f-${mode}/secret": Permission denied\r\n`);
    expect(readdirSync(dest)).toEqual(['ok']);
    rmSync(dest, { recursive: true });
    const theirs = await scp.openssh(['-r', scp.remote(`f-${mode}`, 'backup'), dest]);
    expect(theirs.stderr).toBe(r.stderr);
    expect(theirs.code).toBe(r.code);
  });

  it('a missing remote file: the same message and exit status as OpenSSH scp', async () => {
    const dest = path.join(local, `missing-${mode}`);
    const ours = await scp.scp(mode, [scp.remote('/no/such/file'), dest]);
    const theirs = await scp.openssh([scp.remote('/no/such/file'), dest]);
    expect(theirs.code).toBe(1);
    expect(ours).toMatchObject({ code: theirs.code, stderr: theirs.stderr });
    expect(existsSync(dest)).toBe(false);
  });

  it.each([
    ['a missing local source', () => [path.join(local, 'nope'), scp.remote('/tmp/')]],
    ['a directory without -r', () => [tree, scp.remote('/tmp/')]],
    ['a remote directory without -r', () => [scp.remote('/etc'), path.join(local, 'etc-copy')]],
    [
      'a target in a missing remote directory',
      () => [path.join(tree, 'empty'), scp.remote('/no/such/dir/x')],
    ],
    [
      'two sources and a local target that is no directory',
      () => [scp.remote('/etc/hostname'), scp.remote('/etc/hosts'), path.join(tree, 'empty')],
    ],
    ['an unknown option', () => ['-Z', 'a', 'b']],
    ['a bad port', () => ['-P', '0', 'a', scp.remote('x')]],
    ['a ~user path the server expands', () => [scp.remote('~backup/nothing-here'), path.join(local, 'x')]],
  ])('%s: the exit status and messages of OpenSSH scp', async (_what, argv) => {
    const ours = await scp.scp(mode, argv());
    const theirs = await scp.openssh(argv());
    expect({ code: ours.code, stderr: ours.stderr }).toEqual({ code: theirs.code, stderr: theirs.stderr });
  });

  it('killed mid-transfer (-l slows it down), neither side has a file under the final name', async () => {
    const dest = mkdtempSync(path.join(local, 'killed-'));
    await sshd.sh(`head -c 20000000 /dev/urandom > /tmp/big-${mode}.bin`);
    const env = scp.sandbox.env(mode === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    const down = startCli(['scp', ...scp.options(), '-l', '8000', scp.remote(`/tmp/big-${mode}.bin`), dest], {
      env,
    });
    try {
      await until(() => readdirSync(dest).some((n) => n.startsWith(`.big-${mode}.bin.sshmux-`)));
    } finally {
      down.child.kill('SIGKILL');
    }
    await down.result;
    expect(readdirSync(dest).filter((n) => !n.startsWith(`.big-${mode}.bin.sshmux-`))).toEqual([]);

    await sshd.sh(`rm -rf /tmp/killed-${mode} && mkdir /tmp/killed-${mode}`);
    const up = startCli(
      ['scp', ...scp.options(), '-l', '8000', path.join(tree, 'big.bin'), scp.remote(`/tmp/killed-${mode}/`)],
      { env },
    );
    const listing = async () => (await sshd.sh(`ls -A /tmp/killed-${mode}`)).split('\n').filter(Boolean);
    try {
      await until(async () => (await listing()).some((n) => n.startsWith('.big.bin.sshmux-')));
    } finally {
      up.child.kill('SIGKILL');
    }
    await up.result;
    expect((await listing()).filter((n) => !n.startsWith('.big.bin.sshmux-'))).toEqual([]);
  });
  it('a refused connection: ssh says why, then "scp: Connection closed", exit 255 as scp', async () => {
    // Port 1 (tcpmux): privileged and unused, so nothing can start listening there between runs.
    const closed = '1';
    const argv = [...scp.options().slice(0, -2), '-P', closed, path.join(tree, 'empty'), scp.remote('/tmp/')];
    const ours = await scp.run('scp', mode, argv);
    const theirs = await runProgram('scp', argv, {
      env: scp.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` }),
    });
    expect(theirs.code).toBe(255);
    expect(theirs.stderr.endsWith('scp: Connection closed\r\n')).toBe(true);
    expect(ours.code).toBe(255);
    expect(ours.stderr.endsWith('scp: Connection closed\r\n')).toBe(true);
    // The connect error in ssh's words, so the whole of stderr is scp's.
    expect(ours.stderr).toBe(theirs.stderr);
  });

  it('on a terminal, the progress meter as scp draws it (driven through script(1)); none with -q', async () => {
    await sshd.sh(`head -c 3000000 /dev/urandom > /tmp/meter-${mode}.bin`);
    const dest = mkdtempSync(path.join(local, 'meter-'));
    const line = (extra: string[]) =>
      [process.execPath, CLI, 'scp', ...extra, ...scp.options(), scp.remote(`/tmp/meter-${mode}.bin`), dest]
        .map((a) => `'${a}'`)
        .join(' ');
    const env = scp.sandbox.env(mode === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    const r = await runProgram('script', ['-qec', line([]), '/dev/null'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(
      new RegExp(`meter-${mode}\\.bin +100% +2930KB +[\\d.]+[KMG]B/s +\\d\\d:\\d\\d {4}\\r?\\n`),
    );
    const quiet = await runProgram('script', ['-qec', line(['-q']), '/dev/null'], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.toString()).not.toContain('100%');
  });
  it('the server going away mid-file: scp fails and removes its temporary, nothing under the final name', async () => {
    await sshd.sh(`head -c 3000000 /dev/urandom > /tmp/cut-${mode}.bin`);
    const dest = mkdtempSync(path.join(local, 'cut-'));
    const env = scp.sandbox.env(mode === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    const run = startCli(['scp', ...scp.options(), '-l', '800', scp.remote(`/tmp/cut-${mode}.bin`), dest], {
      env,
    });
    try {
      await until(() => readdirSync(dest).some((n) => n.startsWith(`.cut-${mode}.bin.sshmux-`)));
      await sshd.exec(['pkill', '-KILL', '-f', 'sftp-server']);
      const r = await run.result;
      expect(r.code).not.toBe(0);
      expect(readdirSync(dest)).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
  it('SIGTERM mid-download: exit 1 as scp, and the temporary is removed', async () => {
    await sshd.sh(`head -c 3000000 /dev/urandom > /tmp/term-${mode}.bin`);
    const dest = mkdtempSync(path.join(local, 'term-'));
    const env = scp.sandbox.env(mode === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    const run = startCli(['scp', ...scp.options(), '-l', '800', scp.remote(`/tmp/term-${mode}.bin`), dest], {
      env,
    });
    try {
      await until(() => readdirSync(dest).some((n) => n.startsWith(`.term-${mode}.bin.sshmux-`)));
      run.child.kill('SIGTERM');
      const r = await run.result;
      expect(r.code).toBe(1);
      expect(readdirSync(dest)).toEqual([]);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await sleep(50);
  }
  throw new Error('condition not met within 30 s');
}
