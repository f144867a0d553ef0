import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshPool } from '../../src/pool/ssh-pool.js';
import { type StartedEmbeddedSshd, startEmbeddedSshd } from '../helpers/embedded/embedded-sshd.js';
import { freshEd25519 } from '../helpers/embedded/keys.js';

/** OpenSSH's own client against the embedded server: a second, independent implementation. */
function openssh(
  file: 'ssh' | 'sftp' | 'scp',
  s: StartedEmbeddedSshd,
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const portFlag = file === 'ssh' ? '-p' : '-P';
  const common = [
    '-F',
    'none',
    '-i',
    s.keyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${s.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    portFlag,
    String(s.port),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...common, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LANG: 'C.UTF-8', FOO: 'bar' },
    });
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
    child.stdin.end(input);
  });
}

function running(pattern: string): boolean {
  try {
    execFileSync('pgrep', ['-f', pattern], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The checks drive the server with /bin/sh commands and OpenSSH's clients: said, never silent.
const unsupported =
  process.platform === 'win32' ? 'needs /bin/sh and OpenSSH ssh/sftp on this machine' : undefined;
if (unsupported) process.stderr.write(`sshmux: embedded server tests skipped: ${unsupported}\n`);

describe.skipIf(unsupported !== undefined)('the embedded SSH server', () => {
  let s: StartedEmbeddedSshd;
  beforeAll(async () => {
    s = await startEmbeddedSshd({ maxSessions: 4 });
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(s.host).toBe('127.0.0.1');
    // Linux routes all of 127/8 to lo: a server bound to every address would answer on .2 too.
    if (process.platform !== 'linux') return;
    const err = await new Promise<unknown>((resolve) => {
      const sock = connect({ host: '127.0.0.2', port: s.port });
      sock.on('connect', () => {
        sock.destroy();
        resolve(undefined);
      });
      sock.on('error', resolve);
    });
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('is verified by its known_hosts line like any host, and refuses other keys and users', async () => {
    // No injected verifier: the pool checks the host key against the HostConfig's known_hosts.
    await using pool = new SshPool();
    const ok = await pool.exec(s.hostConfig(), 'echo verified', { encoding: 'utf8' });
    expect(ok.stdout).toBe('verified\n');

    const otherHost = path.join(s.tmpDir, 'known_hosts.other');
    writeFileSync(otherHost, `${s.knownHostsName} ${freshEd25519('x').public}\n`);
    await expect(
      pool.exec(s.hostConfig('backup', { userKnownHostsFiles: [otherHost] }), 'true'),
    ).rejects.toMatchObject({ kind: 'host-key' });

    const otherKey = path.join(s.tmpDir, 'id_other');
    writeFileSync(otherKey, freshEd25519('y').private, { mode: 0o600 });
    await expect(
      pool.exec(s.hostConfig('backup', { identityFiles: [otherKey] }), 'true'),
    ).rejects.toMatchObject({
      kind: 'auth',
    });
    await expect(pool.exec(s.hostConfig('nobody-here'), 'true')).rejects.toMatchObject({ kind: 'auth' });
  });

  it('runs commands by the local shell in its home: argv, stderr, exit status, stdin, AcceptEnv, signals', async () => {
    await using pool = s.pool();
    const host = s.hostConfig();
    expect(
      await pool.exec(host, ['printf', '%s|', 'a b', "it's", '$HOME'], { encoding: 'utf8' }),
    ).toMatchObject({
      stdout: "a b|it's|$HOME|",
      exitCode: 0,
    });
    expect(await pool.exec(host, 'echo out; echo err >&2; exit 3', { encoding: 'utf8' })).toMatchObject({
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 3,
    });
    expect((await pool.exec(host, 'pwd; echo "$HOME $USER"', { encoding: 'utf8' })).stdout).toBe(
      `${s.home}\n${s.home} backup\n`,
    );
    expect((await pool.exec(host, ['cat'], { stdin: 'fed', encoding: 'utf8' })).stdout).toBe('fed');
    expect(await pool.exec(host, 'kill -TERM $$')).toMatchObject({ exitCode: null, signal: 'TERM' });

    // OpenSSH's client sends LANG (accepted, as the container's AcceptEnv) and FOO (refused).
    const env = await openssh(
      'ssh',
      s,
      ['-o', 'SendEnv=LANG FOO', 'backup@127.0.0.1', 'echo "$LANG"; printenv FOO || echo FOO-unset'],
      '',
    );
    expect(env).toMatchObject({ code: 0, stdout: 'C.UTF-8\nFOO-unset\n' });

    // The signal request reaches the local process, whose death is reported as exit-signal.
    const proc = await pool.spawn(host, 'echo ready; exec sleep 985');
    proc.stderr.resume();
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    proc.kill('TERM');
    expect(await proc.exited).toEqual({ code: null, signal: 'TERM' });
    expect(running('sleep 985')).toBe(false);
  });

  it('runs a shell reading the channel when no command is given, and refuses a pty as a server without one', async () => {
    const shell = await openssh('ssh', s, ['-T', 'backup@127.0.0.1'], 'echo from-shell; pwd; exit 5\n');
    expect(shell).toMatchObject({ code: 5, stdout: `from-shell\n${s.home}\n`, stderr: '' });
    // The refusal is an answer, never a hang: ssh -tt (a forced tty) then gives up, as it
    // does with any server that cannot allocate one (clientloop.c: fatal when forced).
    const pty = await openssh('ssh', s, ['-tt', 'backup@127.0.0.1', 'echo no-tty'], '');
    expect(pty.stderr).toMatch(/PTY allocation request failed on channel 0/);
    expect(pty.code).toBe(255);
  });

  it('enforces MaxSessions per connection, so the pool learns it and spills with few logins', async () => {
    const before = await s.countLogins('backup');
    const refused = s.refusedSessions;
    await using pool = s.pool({ concurrency: 40, channelsPerConnection: 10, maxConnectionsPerHost: 3 });
    const host = s.hostConfig();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => pool.exec(host, `sleep 0.2; echo ${i}`, { encoding: 'utf8' })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(s.refusedSessions).toBeGreaterThan(refused);
    const capacities = pool.stats().perHost[0]!.capacities;
    for (const c of capacities) expect(c).toBeLessThanOrEqual(4);
    const logins = (await s.countLogins('backup')) - before;
    expect(logins).toBeGreaterThanOrEqual(2);
    expect(logins).toBeLessThanOrEqual(3);
  });

  it('serves SFTP from the local file system to OpenSSH sftp: put, get, ls, mkdir, rename, symlink, chmod, rm', async () => {
    const local = path.join(s.tmpDir, 'local');
    mkdirSync(local);
    writeFileSync(path.join(local, 'up.txt'), 'uploaded\n');
    const batch = [
      `lcd ${local}`,
      'mkdir dir',
      'cd dir',
      'put up.txt',
      'rename up.txt moved.txt',
      'symlink moved.txt link',
      'chmod 640 moved.txt',
      'ls -1',
      'get moved.txt back.txt',
      'mkdir gone',
      'rmdir gone',
      'put up.txt extra',
      'rm extra',
      '-rename link moved.txt',
      'pwd',
    ].join('\n');
    const r = await openssh('sftp', s, ['-b', '-', 'backup@127.0.0.1'], `${batch}\n`);
    expect(r.stderr).not.toMatch(/Couldn't (?!rename)/);
    expect(r.code).toBe(0);
    const dir = path.join(s.home, 'dir');
    expect(readFileSync(path.join(dir, 'moved.txt'), 'utf8')).toBe('uploaded\n');
    expect(statSync(path.join(dir, 'moved.txt')).mode & 0o777).toBe(0o640);
    expect(readlinkSync(path.join(dir, 'link'))).toBe('moved.txt');
    expect(readFileSync(path.join(local, 'back.txt'), 'utf8')).toBe('uploaded\n');
    expect(r.stdout).toContain(`Remote working directory: ${dir}`);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['link', 'moved.txt']));
    // SFTP v3's rename never replaces an existing name (the `-` let the batch go on).
    expect(r.stderr).toMatch(/remote rename ".*\/link" to ".*\/moved\.txt": Failure/);
    expect(() => statSync(path.join(dir, 'extra'))).toThrow();
  });

  it('ends an SFTP session as sshd does, with exit status 0, so OpenSSH scp succeeds both ways', async () => {
    const src = path.join(s.tmpDir, 'scp-src.txt');
    writeFileSync(src, 'by scp\n');
    const up = await openssh('scp', s, [src, 'backup@127.0.0.1:scp-copy.txt']);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path.join(s.home, 'scp-copy.txt'), 'utf8')).toBe('by scp\n');
    const down = await openssh('scp', s, [
      'backup@127.0.0.1:scp-copy.txt',
      path.join(s.tmpDir, 'scp-back.txt'),
    ]);
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path.join(s.tmpDir, 'scp-back.txt'), 'utf8')).toBe('by scp\n');
  });

  it('answers SFTP errors with the status sftp-server sends', async () => {
    const r = await openssh('sftp', s, ['-b', '-', 'backup@127.0.0.1'], '-rm no-such-file\nrmdir /proc/1\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-file: No such file/);
    expect(r.stderr).toMatch(/"\/proc\/1": (Permission denied|Failure)/);
  });
});
