import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { ExecError } from '../../src/errors.js';
import { SshPool, type SshPoolOptions } from '../../src/index.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

function hostOf(
  sshd: StartedSshd,
  user = 'backup',
  extra: Partial<Parameters<typeof plainHostConfig>[0]> = {},
): HostConfig {
  return plainHostConfig({
    host: sshd.host,
    port: sshd.port,
    user,
    identityFiles: [sshd.keyPath],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [sshd.knownHostsFile],
    ...extra,
  });
}

function poolFor(sshd: StartedSshd, options: SshPoolOptions = {}): SshPool {
  return new SshPool({
    hostKeyVerifier: async (key) => {
      if (!sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')))
        throw new Error('unknown host key');
    },
    ...options,
  });
}

describe('SshPool against a real sshd (MaxSessions 10)', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd({ sshdOptions: ['MaxSessions=10'] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('execs argv and strings, with utf8 and Buffer output, exit codes and check', async () => {
    await using pool = poolFor(sshd);
    const host = hostOf(sshd);
    const r = await pool.exec(host, ['printf', '%s|', 'a b', "it's", '$HOME'], { encoding: 'utf8' });
    expect(r).toMatchObject({ stdout: "a b|it's|$HOME|", stderr: '', exitCode: 0, signal: null });
    const b = await pool.exec(host, 'echo out; echo err >&2; exit 3');
    expect(Buffer.isBuffer(b.stdout)).toBe(true);
    expect(b.stdout.toString()).toBe('out\n');
    expect(b.stderr.toString()).toBe('err\n');
    expect(b.exitCode).toBe(3);
    const err = await pool.exec(host, 'echo boom >&2; exit 4', { check: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ exitCode: 4, kind: 'remote', stderr: 'boom\n' });
    const s = await pool.exec(host, ['cat'], { stdin: 'fed through stdin', encoding: 'utf8' });
    expect(s.stdout).toBe('fed through stdin');
  });

  it('spawns with streams, stdin from the caller and the exit status', async () => {
    await using pool = poolFor(sshd);
    const proc = await pool.spawn(hostOf(sshd), ['sh', '-c', 'tr a-z A-Z; exit 7']);
    const out: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.resume();
    proc.stdin.end('hello spawn\n');
    expect(await proc.exited).toEqual({ code: 7, signal: null });
    expect(Buffer.concat(out).toString()).toBe('HELLO SPAWN\n');
    expect(pool.stats().openChannels).toBe(0);
  });

  it('leases an sftp session and releases its slot on close', async () => {
    await using pool = poolFor(sshd);
    const host = hostOf(sshd);
    const lease = await pool.sftp(host);
    expect(pool.stats().openChannels).toBe(1);
    const list = await new Promise<string[]>((resolve, reject) =>
      lease.sftp.readdir('/', (err, l) => (err ? reject(err) : resolve(l.map((e) => e.filename)))),
    );
    expect(list).toContain('etc');
    await lease.close();
    await lease.close();
    expect(pool.stats().openChannels).toBe(0);
    await sleep(10);
  });
});
