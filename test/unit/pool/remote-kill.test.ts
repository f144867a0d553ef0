import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { killJobCommand, newJobId, tagCommand } from '../../../src/pool/remote-kill.js';
import { itPosix } from '../../helpers/posix-only.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('tracked remote jobs', () => {
  it('job ids are 16 hex digits and differ', () => {
    const a = newJobId();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(newJobId()).not.toBe(a);
  });

  it('refuses a job id or signal that is not plain (the script is built, never interpolated)', () => {
    expect(() => killJobCommand('x; rm -rf /')).toThrow(/16-hex-digit job id/);
    expect(killJobCommand('0123456789abcdef', '$(reboot)')).toMatch(/ TERM$/);
  });

  // The scripts are POSIX sh: run them here with /bin/sh as a server's login shell would.
  itPosix('sh and sleep')(
    'the tagged command and the kill script end the job, and what it started, from outside',
    async () => {
      const id = newJobId();
      const job = spawn('/bin/sh', ['-c', tagCommand("sleep 300; sh -c 'sleep 301'", id)], {
        stdio: 'ignore',
        detached: true,
      });
      const other = spawn('sleep', ['302'], { stdio: 'ignore' });
      try {
        await sleep(200);
        expect(alive(job.pid!)).toBe(true);
        const exited = new Promise((r) => job.once('exit', (_code, signal) => r(signal)));
        // Exit 0: nothing carrying the marker is left.
        execFileSync('/bin/sh', ['-c', killJobCommand(id, 'TERM')], { stdio: 'ignore' });
        expect(await exited).toBe('SIGTERM');
        expect(alive(other.pid!)).toBe(true);
      } finally {
        job.kill('SIGKILL');
        other.kill('SIGKILL');
      }
    },
  );

  itPosix('sh and sleep')('KILLs what ignores the first signal', async () => {
    const id = newJobId();
    const job = spawn('/bin/sh', ['-c', tagCommand("trap '' TERM; while :; do sleep 0.05; done", id)], {
      stdio: 'ignore',
    });
    try {
      await sleep(200);
      const exited = new Promise((r) => job.once('exit', (_code, signal) => r(signal)));
      execFileSync('/bin/sh', ['-c', killJobCommand(id, 'TERM')], { stdio: 'ignore' });
      expect(await exited).toBe('SIGKILL');
    } finally {
      job.kill('SIGKILL');
    }
  });
});
