import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAEMON_MAX_CONNECTIONS_PER_HOST } from '../../src/mux/run-daemon.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { MuxSandbox } from './mux-helpers.js';

interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function git(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** git over `sshmux ssh` as GIT_SSH_COMMAND / core.sshCommand, many at once, through one daemon. */
describe('git over sshmux ssh', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  let head: string;
  let url: string;

  beforeAll(async () => {
    sshd = await startSshd();
    box = new MuxSandbox(sshd);
    await sshd.sh(
      [
        'set -e',
        'cd /home/backup',
        'git init -q --bare -b main repo.git',
        'git init -q -b main work',
        'cd work',
        'git config user.email t@example.com',
        'git config user.name test',
        'head -c 2000000 /dev/urandom > blob.bin',
        'for i in 1 2 3 4 5; do echo "line $i" >> notes.txt; git add .; git commit -qm "commit $i"; done',
        'git push -q ../repo.git main',
      ].join('\n'),
      'backup',
    );
    head = (await sshd.sh('git --git-dir=/home/backup/repo.git rev-parse main', 'backup')).trim();
    url = `ssh://backup@${sshd.host}:${sshd.port}/home/backup/repo.git`;
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...box.env(),
      GIT_SSH_COMMAND: box.gitSshCommand(),
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      ...extra,
    };
  }

  it('30 concurrent clones, then 30 concurrent fetches, share at most 4 connections', async () => {
    const before = await sshd.countLogins('backup');
    const dirs = Array.from({ length: 30 }, (_, i) => path.join(box.runtimeDir, `clone-${i}`));
    const clones = await Promise.all(dirs.map((d) => git(['clone', '-q', url, d], gitEnv())));
    clones.forEach((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
    for (const d of dirs) {
      expect((await git(['rev-parse', 'HEAD'], gitEnv(), d)).stdout.trim()).toBe(head);
    }
    const fsck = await git(['fsck', '--strict'], gitEnv(), dirs[7]);
    expect(fsck.code).toBe(0);

    await sshd.sh(
      'set -e; cd /home/backup/work; echo more >> notes.txt; git commit -qam "commit 6"; git push -q ../repo.git main',
      'backup',
    );
    const newHead = (await sshd.sh('git --git-dir=/home/backup/repo.git rev-parse main', 'backup')).trim();
    expect(newHead).not.toBe(head);
    const fetches = await Promise.all(dirs.map((d) => git(['fetch', '-q', 'origin'], gitEnv(), d)));
    fetches.forEach((r) => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
    for (const d of dirs) {
      expect((await git(['rev-parse', 'origin/main'], gitEnv(), d)).stdout.trim()).toBe(newHead);
    }
    const logins = (await sshd.countLogins('backup')) - before;
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(logins).toBeLessThanOrEqual(DAEMON_MAX_CONNECTIONS_PER_HOST);
    expect(box.daemonPids()).toHaveLength(1);
  });

  it('passes git’s -G variant probe and negotiates protocol v2', async () => {
    const r = await git(['ls-remote', url], gitEnv({ GIT_TRACE_PACKET: '1', GIT_TRACE: '1' }));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/refs\/heads\/main/);
    // The probe succeeded: git then calls us as OpenSSH, with SendEnv and -p (a "simple" ssh gets neither).
    expect(r.stderr).toMatch(/-G -o SendEnv=GIT_PROTOCOL -p \d+ backup@127\.0\.0\.1/);
    expect(r.stderr).toMatch(/-o SendEnv=GIT_PROTOCOL -p \d+ backup@127\.0\.0\.1 'git-upload-pack/);
    expect(r.stderr).toMatch(/packet: +[\w-]+< version 2\n/);
  });

  it('works as core.sshCommand with an ssh config file (-F) and an scp-style URL', async () => {
    const config = path.join(box.runtimeDir, 'ssh_config');
    writeFileSync(
      config,
      [
        'Host repohost',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        '  User backup',
        `  IdentityFile ${sshd.keyPath}`,
        `  UserKnownHostsFile ${sshd.knownHostsFile}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    );
    const { GIT_SSH_COMMAND: _unused, ...env } = gitEnv();
    const dir = path.join(box.runtimeDir, 'via-config');
    const r = await git(
      [
        '-c',
        `core.sshCommand=${process.execPath} ${box.cliPath} ssh -F ${config}`,
        'clone',
        '-q',
        'repohost:repo.git',
        dir,
      ],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await git(['rev-parse', 'HEAD'], env, dir)).stdout.trim()).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reports a missing repository with git’s message and a failing exit', async () => {
    const r = await git(['ls-remote', `ssh://backup@${sshd.host}:${sshd.port}/nope.git`], gitEnv());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/does not appear to be a git repository|not found|No such/);
  });
});
