import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { WineSandbox, type WineSetup, wineSetup, winPath } from '../helpers/wine.js';

function git(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('git', args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * git with GIT_SSH_COMMAND running `sshmux ssh` under Windows node.exe (through the tier's
 * pipe relay, test/helpers/wine-git-ssh.mjs), protocol v2, through the daemon.
 */
describe('Windows tier: git clone and fetch over sshmux ssh', () => {
  let setup: WineSetup;
  let sshd: StartedSshd;
  let box: WineSandbox;
  let url: string;
  beforeAll(async () => {
    setup = wineSetup();
    sshd = await startSshd();
    box = new WineSandbox(setup, sshd);
    await sshd.sh(
      [
        'set -e',
        'cd /home/backup',
        'git init -q --bare -b main repo.git',
        'git init -q -b main work',
        'cd work',
        'git config user.email t@example.com',
        'git config user.name test',
        'head -c 300000 /dev/urandom > blob.bin',
        'echo one > notes.txt; git add .; git commit -qm one',
        'git push -q ../repo.git main',
      ].join('\n'),
      'backup',
    );
    url = `ssh://backup@${sshd.host}:${sshd.port}/home/backup/repo.git`;
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  it('clones, then fetches a new commit, with protocol v2, both through one daemon connection', async () => {
    const trace = path.join(box.root, 'trace');
    const held = path.join(box.root, 'held');
    const env = {
      ...box.gitEnv(),
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TRACE_PACKET: trace,
      SSHMUX_WIN_BRIDGE_HELD: winPath(held),
    };
    const before = await sshd.countLogins('backup');
    const dir = path.join(box.root, 'clone');
    const clone = await git(['-c', 'protocol.version=2', 'clone', '-q', url, dir], env);
    expect(clone.stderr).toBe('');
    expect(clone.code).toBe(0);
    const head = (await sshd.sh('git --git-dir=/home/backup/repo.git rev-parse main', 'backup')).trim();
    expect((await git(['rev-parse', 'HEAD'], env, dir)).stdout.trim()).toBe(head);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('one\n');

    await sshd.sh(
      'cd /home/backup/work && echo two >> notes.txt && git commit -qam two && git push -q ../repo.git main',
      'backup',
    );
    const fetched = await git(['-c', 'protocol.version=2', 'fetch', '-q', 'origin'], env, dir);
    expect(fetched.stderr).toBe('');
    expect(fetched.code).toBe(0);
    const newHead = (await sshd.sh('git --git-dir=/home/backup/repo.git rev-parse main', 'backup')).trim();
    expect((await git(['rev-parse', 'origin/main'], env, dir)).stdout.trim()).toBe(newHead);
    expect(newHead).not.toBe(head);
    // The server spoke v2 (it only does when the client's GIT_PROTOCOL reached it).
    expect(readFileSync(trace, 'utf8')).toMatch(/< version 2/);
    expect(box.daemonPids()).toHaveLength(1);
    expect(await sshd.countLogins('backup')).toBe(before + 1);
    // The daemon the first invocation started did not keep that invocation's stdout/stderr
    // (Windows pipes) open: a caller reading them to EOF would otherwise wait for the daemon to exit.
    expect(existsSync(held) ? readFileSync(held, 'utf8') : '').toBe('');
  });
});
