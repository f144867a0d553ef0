import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

// -s/-N and OpenSSH's own scp and sftp with `sshmux ssh` as their -S program, each compared with
// /usr/bin/ssh (OpenSSH 9.2) on the same argv and config, and checked on the server side.
let sshd: StartedSshd;
let clients: AuthClients;
let work: string;
const MODES: Mode[] = ['direct', 'daemon'];
const HOME = '/home/backup';

beforeAll(async () => {
  sshd = await startSshd();
  // Two subsystems that show what the server saw before the subsystem request: env and a pty.
  await sshd.sh(
    'printf "Subsystem printenv /usr/bin/env\\nSubsystem tty /usr/bin/tty\\n" > /etc/ssh/sshd_config.d/zz-subsystems.conf',
  );
  await sshd.restartSshd();
  clients = new AuthClients(sshd);
  work = mkdtempSync(path.join(clients.sandbox.runtimeDir, 'work-'));
});

afterAll(async () => {
  await clients?.cleanup();
  await sshd?.stop();
});

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

async function remoteSha(file: string): Promise<string> {
  return (await sshd.sh(`sha256sum '${file}'`)).split(' ')[0]!;
}

/** The `-S` program scp and sftp run: `sshmux ssh -F <config> "$@"`, as a user would write it. */
function wrapper(mode: Mode): string {
  const file = path.join(clients.sandbox.runtimeDir, `ssh-${mode}`);
  const env = mode === 'direct' ? 'SSHMUX_NO_DAEMON=1 ' : '';
  writeFileSync(
    file,
    `#!/bin/sh\n${env}exec '${process.execPath}' '${CLI}' ssh -F '${clients.config}' "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

function run(file: string, argv: string[], input?: string) {
  return runProgram(file, argv, {
    env: clients.sandbox.env(),
    cwd: work,
    timeoutMs: 60_000,
    ...(input !== undefined && { input }),
  });
}

function localFile(name: string, size: number): string {
  const file = path.join(work, name);
  writeFileSync(file, randomBytes(size));
  return file;
}

describe.each(MODES)('subsystems and -N as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it('a subsystem the server lacks: "subsystem request failed on channel 0", 255', async () => {
    const ssh = await clients.run('ssh', ['-s'], 'no-such-subsystem');
    const ours = await clients.run(mode, ['-s'], 'no-such-subsystem');
    expect(ssh).toMatchObject({ code: 255, stdout: '', stderr: 'subsystem request failed on channel 0\n' });
    expect(ours).toMatchObject({ code: 255, stdout: '', stderr: ssh.stderr });
    const quiet = await clients.run(mode, ['-q', '-s'], 'no-such-subsystem');
    expect(quiet).toMatchObject({ code: 255, stderr: '' });
  });

  it('env (SetEnv, SendEnv) goes out before the subsystem request, as ssh sends it', async () => {
    const args = ['-o', 'SetEnv=LC_SESS=set', '-o', 'SendEnv=LANG', '-s'];
    const env = { LANG: 'C.sess-test' };
    const ssh = await clients.run('ssh', args, 'printenv', env);
    const ours = await clients.run(mode, args, 'printenv', env);
    expect(ssh.code).toBe(0);
    expect(ssh.stdout).toMatch(/^LC_SESS=set$/m);
    expect(ssh.stdout).toMatch(/^LANG=C\.sess-test$/m);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toMatch(/^LC_SESS=set$/m);
    expect(ours.stdout).toMatch(/^LANG=C\.sess-test$/m);
  });

  it('-tt -s: a pty is requested before the subsystem; -s alone gets none', async () => {
    const ssh = await clients.run('ssh', ['-tt', '-s'], 'tty');
    const ours = await clients.run(mode, ['-tt', '-s'], 'tty');
    expect(ssh.stdout).toMatch(/^\/dev\/pts\/\d+\r?$/m);
    expect(ours.stdout).toMatch(/^\/dev\/pts\/\d+\r?$/m);
    const none = await clients.run(mode, ['-s'], 'tty');
    expect(none.stdout).toBe('not a tty\n');
  });

  it('-s without a name, and -s with -N: ssh words, 255', async () => {
    for (const args of [['-s'], ['-N', '-s']]) {
      const ssh = await clients.run('ssh', args, undefined);
      const ours = await clients.run(mode, args, undefined);
      expect(ssh.code).toBe(255);
      expect(ours).toMatchObject({ code: 255, stderr: ssh.stderr });
    }
  });

  it('OpenSSH scp (SFTP mode) up and down through sshmux: byte-identical', async () => {
    const file = localFile(`up-${mode}.bin`, 1024 * 1024 + 17);
    const up = await run('/usr/bin/scp', ['-S', wrapper(mode), file, `target:${HOME}/up-${mode}.bin`]);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(await remoteSha(`${HOME}/up-${mode}.bin`)).toBe(sha256(file));
    const back = path.join(work, `down-${mode}.bin`);
    const down = await run('/usr/bin/scp', ['-S', wrapper(mode), `target:${HOME}/up-${mode}.bin`, back]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(sha256(back)).toBe(sha256(file));
  });

  it('scp -r -p: a tree, modes and times kept, every file byte-identical', async () => {
    const tree = path.join(work, `tree-${mode}`);
    mkdirSync(path.join(tree, 'sub', 'deeper'), { recursive: true });
    const files = ['a.bin', 'sub/b.bin', 'sub/deeper/c bin'];
    for (const f of files) writeFileSync(path.join(tree, f), randomBytes(70_000));
    const stamp = new Date('2020-02-02T02:02:02Z');
    chmodSync(path.join(tree, 'a.bin'), 0o640);
    utimesSync(path.join(tree, 'a.bin'), stamp, stamp);
    const r = await run('/usr/bin/scp', ['-r', '-p', '-S', wrapper(mode), tree, `target:${HOME}/`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const f of files) {
      expect(await remoteSha(`${HOME}/tree-${mode}/${f}`)).toBe(sha256(path.join(tree, f)));
    }
    const st = (await sshd.sh(`stat -c '%a %Y' ${HOME}/tree-${mode}/a.bin`)).trim();
    expect(st).toBe(`640 ${stamp.getTime() / 1000}`);
  });

  it('scp -3: remote to remote, both ends through sshmux', async () => {
    const file = localFile(`three-${mode}.bin`, 300_000);
    await run('/usr/bin/scp', ['-S', wrapper(mode), file, `target:${HOME}/three-src-${mode}`]);
    const r = await run('/usr/bin/scp', [
      '-3',
      '-S',
      wrapper(mode),
      `target:${HOME}/three-src-${mode}`,
      `target:${HOME}/three-dst-${mode}`,
    ]);
    expect(r).toMatchObject({ code: 0 });
    expect(await remoteSha(`${HOME}/three-dst-${mode}`)).toBe(sha256(file));
  });

  it('scp -O (legacy scp -t / scp -f over exec) both ways', async () => {
    const file = localFile(`legacy-${mode}.bin`, 200_000);
    const up = await run('/usr/bin/scp', ['-O', '-S', wrapper(mode), file, `target:${HOME}/legacy-${mode}`]);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(await remoteSha(`${HOME}/legacy-${mode}`)).toBe(sha256(file));
    const back = path.join(work, `legacy-back-${mode}`);
    const down = await run('/usr/bin/scp', [
      '-O',
      '-S',
      wrapper(mode),
      `target:${HOME}/legacy-${mode}`,
      back,
    ]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(sha256(back)).toBe(sha256(file));
  });

  it('sftp -b: put, get, ls, mkdir, rename, rm', async () => {
    const file = localFile(`sftp-${mode}.bin`, 150_000);
    const dir = `${HOME}/sftp-${mode}`;
    const batch = [
      `mkdir ${dir}`,
      `put ${file} ${dir}/one`,
      `rename ${dir}/one ${dir}/two`,
      `ls -1 ${dir}`,
      `get ${dir}/two ${work}/sftp-back-${mode}`,
      `put ${file} ${dir}/gone`,
      `rm ${dir}/gone`,
      '',
    ].join('\n');
    const r = await run('/usr/bin/sftp', ['-S', wrapper(mode), '-b', '-', 'target'], batch);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain(`${dir}/two`);
    expect(await remoteSha(`${dir}/two`)).toBe(sha256(file));
    expect(sha256(path.join(work, `sftp-back-${mode}`))).toBe(sha256(file));
    expect((await sshd.sh(`ls ${dir}`)).trim()).toBe('two');
    // A failing command ends the batch with sftp's status 1, as over OpenSSH's ssh.
    const bad = await run('/usr/bin/sftp', ['-S', wrapper(mode), '-b', '-', 'target'], `rm ${dir}/nothing\n`);
    expect(bad.code).toBe(1);
  });

  it('-N: one login, no session, held until SIGTERM (exit 0, as ssh); SIGHUP gives 255', async () => {
    await clients.sandbox.run(['-O', 'exit', 'x']).catch(() => undefined);
    for (const [signal, status] of [
      ['SIGTERM', 0],
      ['SIGHUP', 255],
    ] as const) {
      const results: number[] = [];
      for (const client of ['ssh', mode] as const) {
        const before = await sshd.countLogins('backup');
        const sessionsBefore = await sessionsStarted();
        const child = startClient(client, ['-N']);
        await waitFor(async () => (await sshd.countLogins('backup')) > before);
        // Held: nothing ends it by itself, and no session was opened on it.
        await sleep(1_500);
        expect(child.exitCode).toBeNull();
        expect(await sshd.countLogins('backup')).toBe(before + 1);
        expect(await sessionsStarted()).toBe(sessionsBefore);
        child.kill(signal);
        results.push(await exitOf(child));
        if (client === mode) await clients.sandbox.run(['-O', 'exit', 'x']).catch(() => undefined);
      }
      expect(results).toEqual([status, status]);
    }
  });
});

async function sessionsStarted(): Promise<number> {
  return (await sshd.sshdLog()).split('\n').filter((l) => l.includes('Starting session:')).length;
}

function startClient(client: 'ssh' | Mode, args: string[]): ChildProcess {
  const argv =
    client === 'ssh'
      ? ['/usr/bin/ssh', '-F', clients.config, ...args, 'target']
      : [process.execPath, CLI, 'ssh', '-F', clients.config, ...args, 'target'];
  const env = clients.sandbox.env(client === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
  return spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'ignore'] });
}

function exitOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code ?? -1));
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(100);
  }
}
