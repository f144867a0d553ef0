import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PROBE_SCRIPT, parseProbe } from '../../../src/btrfs/probe.js';
import { remotePipeline } from '../../../src/btrfs/remote-host.js';
import { itPosix } from '../../helpers/posix-only.js';

/** Run a remote command line the way sshd does: through the login shell with -c. */
function viaShell(command: string, input = ''): { code: number | null; stdout: string } {
  const r = spawnSync('sh', ['-c', command], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout };
}

describe('remotePipeline', () => {
  itPosix('sh')('execs a single stage with its arguments quoted', () => {
    expect(remotePipeline([['btrfs', 'receive', '/mnt/my dir']])).toBe("exec btrfs receive '/mnt/my dir'");
    expect(viaShell(remotePipeline([['printf', '%s|', "it's", '$HOME']])).stdout).toBe("it's|$HOME|");
  });

  itPosix('sh')('pipes two stages and exits with the first failing stage (no pipefail in POSIX sh)', () => {
    const ok = viaShell(remotePipeline([['cat'], ['tr', 'a-z', 'A-Z']]), 'hello');
    expect(ok).toEqual({ code: 0, stdout: 'HELLO' });
    // The producer fails but the consumer succeeds: the pipeline must still fail.
    const first = viaShell(remotePipeline([['sh', '-c', 'echo partial; exit 3'], ['cat']]));
    expect(first).toEqual({ code: 3, stdout: 'partial\n' });
    const second = viaShell(
      remotePipeline([
        ['echo', 'x'],
        ['sh', '-c', 'cat >/dev/null; exit 5'],
      ]),
    );
    expect(second.code).toBe(5);
  });

  it('refuses three stages', () => {
    expect(() => remotePipeline([['a'], ['b'], ['c']])).toThrow(/1 or 2/);
  });
});

describe('probe', () => {
  itPosix('sh')('finds programs on this machine and parses the answer', () => {
    const r = spawnSync('sh', ['-c', PROBE_SCRIPT], { encoding: 'utf8' });
    const p = parseProbe(r.stdout);
    expect(p.uid).toBe(process.getuid?.() ?? -1);
    expect(p.user).not.toBe('?');
    expect(parseProbe('uid=1000\nuser=backup\nbtrfs=/usr/bin/btrfs\nzstd=\n')).toEqual({
      uid: 1000,
      user: 'backup',
      btrfs: '/usr/bin/btrfs',
      zstd: null,
    });
    expect(parseProbe('garbage').uid).toBe(-1);
  });
});
