import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI } from './mux-helpers.js';
import { type Mode, ScpRunner } from './scp-helpers.js';

let sshd: StartedSshd;
let runner: ScpRunner;
let local: string;
const MODES: Mode[] = ['daemon', 'direct'];

beforeAll(async () => {
  sshd = await startSshd();
  runner = new ScpRunner(sshd);
  local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-sftp-it-'));
});

afterAll(async () => {
  await runner?.cleanup();
  await sshd?.stop();
  if (local) rmSync(local, { recursive: true, force: true });
});

/** The same remote tree before every run, every time fixed, so that `ls -l` prints the same. */
async function resetRemote(): Promise<void> {
  await sshd.sh(
    [
      'rm -rf /root/work && mkdir -p /root/work/sub /root/work/tree/inner',
      'cd /root/work && echo hello > a.txt && echo bb > b.log && echo x > sub/x && echo deep > tree/inner/deep',
      "printf 'quoted' > 'with space'",
      "find /root/work -exec touch -h -d '2020-01-02 03:04:05' {} +",
    ].join(' && '),
  );
}

function resetLocal(): string {
  const dir = path.join(local, 'lwd');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'up', 'nested'), { recursive: true });
  writeFileSync(path.join(dir, 'up', 'one'), 'one');
  writeFileSync(path.join(dir, 'up', 'nested', 'two'), 'two');
  return dir;
}

/** Every command the brief lists, each with output sftp prints; failures prefixed with '-' so the batch goes on. */
const BATCH = (lwd: string) => `pwd
cd work
ls
ls -1
ls -a
ls -l
ls -la sub
ls *.txt
ls -l a.txt
ls sub
-ls missing*
mkdir newdir
-mkdir newdir
rmdir newdir
-rmdir newdir
lcd ${lwd}
lpwd
lmkdir made
put up/one
put -r up
put -p up/one copied
get a.txt
get -r tree
get -p b.log got.log
-get missing.txt
rename copied renamed
copy a.txt duplicate
cp duplicate duplicate2
-cp missing x
-rename missing x
chmod 640 renamed
chown 0 renamed
ln -s a.txt link
ls -l link
rm link
rm renamed
-rm missing
@pwd
!echo from a shell
lls
df -h
df
version
help
-frob
-get
cd
pwd
bye
pwd
`;

/** df's numbers change as the disk does: keep its shape, not its digits. */
const stable = (text: string) => text.replace(/^( *[\d.]+[KMGTB]*B? +){4} +.*$/gm, '<df numbers>');

describe.each(MODES)('sshmux sftp -b (%s) against OpenSSH sftp -b', (mode) => {
  it('a batch of every listed command: the same stdout, stderr, exit status and remote result', async () => {
    const batch = path.join(local, 'batch');
    const opts = [...runner.options(), '-b', batch, runner.remote('').slice(0, -1)];
    await resetRemote();
    writeFileSync(batch, BATCH(resetLocal()));
    const env = runner.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}`, TZ: 'UTC' });
    const theirs = await runProgram('sftp', opts, { env, cwd: local });
    const theirTree = await sshd.sh('cd /root/work && find . | sort && cat tree/inner/deep');
    await resetRemote();
    writeFileSync(batch, BATCH(resetLocal()));
    const ours = await runner.run('sftp', mode, opts.slice(0), undefined, { TZ: 'UTC' }, local);
    expect(theirs.code).toBe(0);
    expect(stable(ours.stdout.toString('latin1'))).toBe(stable(theirs.stdout.toString('latin1')));
    expect(ours.stderr).toBe(theirs.stderr);
    expect(ours.code).toBe(theirs.code);
    expect(await sshd.sh('cd /root/work && find . | sort && cat tree/inner/deep')).toBe(theirTree);
    expect(theirs.stdout.toString()).toContain('Remote working directory: /root/work');
  });

  it('a failing command ends the batch with exit 1, as sftp does', async () => {
    const batch = path.join(local, 'batch-fail');
    writeFileSync(batch, 'pwd\nget /no/such/file\npwd\n');
    const opts = [...runner.options(), '-b', batch, runner.remote('').slice(0, -1)];
    const env = runner.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    const theirs = await runProgram('sftp', opts, { env, cwd: local });
    const ours = await runner.run('sftp', mode, opts, undefined, {}, local);
    expect(theirs.code).toBe(1);
    expect(ours).toMatchObject({ code: 1, stderr: theirs.stderr, stdout: theirs.stdout });
  });

  it('commands on stdin without -b: echoed, and a failure does not stop the rest', async () => {
    const opts = [...runner.options(), runner.remote('').slice(0, -1)];
    const input = 'pwd\nget /no/such/file\nversion\n';
    const env = runner.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    const theirs = await runProgram('sftp', opts, { env, input, cwd: local });
    const ours = await runner.run('sftp', mode, opts, input, {}, local);
    expect(theirs.code).toBe(0);
    expect(ours).toMatchObject({ code: theirs.code, stdout: theirs.stdout, stderr: theirs.stderr });
  });
  it('host:dir starts there and host:file fetches the file, as sftp does', async () => {
    await resetRemote();
    const env = runner.sandbox.env({ PATH: `/usr/bin:${process.env.PATH ?? ''}` });
    const startIn = [...runner.options(), '-b', '-', runner.remote('work/sub')];
    const theirs = await runProgram('sftp', startIn, { env, input: 'pwd\n', cwd: local });
    const ours = await runner.run('sftp', mode, startIn, 'pwd\n', {}, local);
    expect(theirs.stdout.toString()).toBe('sftp> pwd\nRemote working directory: /root/work/sub\n');
    expect(ours).toMatchObject({ code: theirs.code, stdout: theirs.stdout, stderr: theirs.stderr });

    const dest = resetLocal();
    const fetch = [...runner.options(), runner.remote('work/a.txt'), path.join(dest, 'fetched')];
    const mine = await runner.run('sftp', mode, fetch, undefined, {}, local);
    const fetched = readFileSync(path.join(dest, 'fetched'), 'utf8');
    rmSync(path.join(dest, 'fetched'));
    const real = await runProgram('sftp', fetch, { env, cwd: local });
    expect(real.code).toBe(0);
    expect(mine).toMatchObject({ code: real.code, stdout: real.stdout, stderr: real.stderr });
    expect(fetched).toBe(readFileSync(path.join(dest, 'fetched'), 'utf8'));
  });

  it('on a terminal: the sftp> prompt, commands answered, exit at end of input (script(1))', async () => {
    const line = [process.execPath, CLI, 'sftp', ...runner.options(), runner.remote('').slice(0, -1)]
      .map((a) => `'${a}'`)
      .join(' ');
    const env = runner.sandbox.env(mode === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    const r = await runProgram('script', ['-qec', line, '/dev/null'], { env, input: 'pwd\nbye\n' });
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain('sftp> ');
    expect(text).toContain('Remote working directory: /root');
  });
});
