import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selectEndpoint } from '../../src/mux/endpoint.js';
import { ROOT } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import {
  WineSandbox,
  type WineSetup,
  wineEnv,
  wineSetup,
  winPath,
  winPathBackslash,
} from '../helpers/wine.js';

/** A stranger's server on `pipe` under Wine (wine-squatter.mjs); resolves once it listens. */
async function squat(
  setup: WineSetup,
  pipe: string,
  record: string,
): Promise<{ stop(): void; got(): Buffer }> {
  const script = winPath(path.join(ROOT, 'test', 'helpers', 'wine-squatter.mjs'));
  const child = spawn('wine', [setup.nodeExe, script, pipe, winPath(record)], {
    env: wineEnv(setup, process.env),
    stdio: 'ignore',
  });
  const ready = `${record}.ready`;
  for (let i = 0; !existsSync(ready) || readFileSync(ready, 'utf8') === ''; i++) {
    if (i > 300) throw new Error('the squatter did not start within 30 s');
    await sleep(100);
  }
  expect(readFileSync(ready, 'utf8')).toBe('listening');
  return { stop: () => child.kill('SIGKILL'), got: () => readFileSync(record) };
}

/** The pipe name every daemon of `box`'s profile derives its own from (the predictable part). */
function basePipe(box: WineSandbox): string {
  return selectEndpoint({
    platform: 'win32',
    env: { LOCALAPPDATA: winPathBackslash(box.localAppData) },
    uid: -1,
    username: process.env.USER ?? 'root',
    tmpdir: 'C:\\windows\\temp',
    homedir: winPathBackslash(box.profile),
    cwd: 'C:\\',
  }).socketPath;
}

/**
 * `sshmux ssh` run by Windows node.exe (process.platform win32, real named pipes) under Wine:
 * the daemon and in-process paths, where the daemon is and which files it reads (issue 15,
 * defects 1 and 2), and strangers on its pipe names.
 */
describe('Windows tier: sshmux ssh, its daemon and its endpoint', () => {
  let setup: WineSetup;
  let sshd: StartedSshd;
  const boxes: WineSandbox[] = [];
  const sandbox = (): WineSandbox => {
    const box = new WineSandbox(setup, sshd);
    boxes.push(box);
    return box;
  };
  beforeAll(async () => {
    setup = wineSetup();
    sshd = await startSshd();
  });
  afterEach(async () => {
    for (const box of boxes.splice(0)) await box.cleanup();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs as win32 and through one daemon: two commands, one login, the daemon on a named pipe', async () => {
    const box = sandbox();
    const before = await sshd.countLogins('root');
    const a = await box.remote('echo one; echo two >&2; exit 3');
    expect(a.stderr).toBe('two\n');
    expect(a.stdout.toString()).toBe('one\n');
    expect(a.code).toBe(3);
    const b = await box.remote('uname -s');
    expect(b.stdout.toString()).toBe('Linux\n');
    expect(b.code).toBe(0);
    expect(await sshd.countLogins('root')).toBe(before + 1);
    expect(box.daemonPids()).toHaveLength(1);
    // %LOCALAPPDATA%\sshmux holds the daemon's token, as docs/cli.md says.
    expect(existsSync(path.join(box.daemonDir, 'token'))).toBe(true);
  });

  it('SSHMUX_NO_DAEMON=1 runs in-process: no daemon, one login per command', async () => {
    const box = sandbox();
    const before = await sshd.countLogins('root');
    const env = { SSHMUX_NO_DAEMON: '1' };
    const a = await box.remote('echo one; exit 4', { env });
    expect(a.stdout.toString()).toBe('one\n');
    expect(a.code).toBe(4);
    const b = await box.remote('cat', { env, input: 'from stdin\n' });
    expect(b.stdout.toString()).toBe('from stdin\n');
    expect(await sshd.countLogins('root')).toBe(before + 2);
    expect(box.daemonPids()).toEqual([]);
  });

  // Defect 1: with XDG_RUNTIME_DIR=/run/user/0 (no drive, as WSL, MSYS and Wine pass it), the
  // client and the daemon it started hashed different strings into the pipe name; every
  // invocation waited ~16 s and connected in-process (one login each).
  it('ignores a drive-less XDG_RUNTIME_DIR: the daemon is in %LOCALAPPDATA%\\sshmux and found', async () => {
    const box = sandbox();
    const xdg = path.join(sshd.tmpDir, 'xdg');
    mkdirSync(xdg);
    const env = { XDG_RUNTIME_DIR: xdg };
    const before = await sshd.countLogins('root');
    for (const word of ['one', 'two']) {
      const r = await box.remote(`echo ${word}`, { env });
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(`${word}\n`);
      expect(r.code).toBe(0);
    }
    expect(await sshd.countLogins('root')).toBe(before + 1);
    expect(box.daemonPids()).toHaveLength(1);
    expect(existsSync(path.join(box.daemonDir, 'token'))).toBe(true);
    const check = await box.ssh(['-O', 'check', 'x'], { env });
    expect(check.stderr).toMatch(/^Master running \(pid=\d+/);
    expect(check.code).toBe(0);
  });

  // Defect 2: the daemon runs on C: (its directory); `/tmp/…` from the client on Z: named
  // C:\tmp\… there: "host key … is not known (searched /tmp/…/known_hosts)" through the daemon.
  it('resolves drive-relative IdentityFile, UserKnownHostsFile, -i and -F in the client', async () => {
    const box = sandbox();
    const config = path.join(sshd.tmpDir, 'ssh_config.drive-relative');
    writeFileSync(
      config,
      [
        'Host acc',
        `  HostName ${sshd.host}`,
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${sshd.keyPath}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${sshd.knownHostsFile}`,
        '  StrictHostKeyChecking yes',
        '  BatchMode yes',
        '',
      ].join('\n'),
    );
    const before = await sshd.countLogins('root');
    // The same file as `\tmp\…` (backslashes), from the config, and from the command line.
    const backslashed = config.replaceAll('/', '\\');
    const viaConfig = await box.ssh(['-F', backslashed, 'acc', 'echo config']);
    expect(viaConfig.stderr).toBe('');
    expect(viaConfig.stdout.toString()).toBe('config\n');
    expect(viaConfig.code).toBe(0);
    const viaArgs = await box.ssh([
      '-F',
      'none',
      '-i',
      sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${sshd.knownHostsFile.replaceAll('/', '\\')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(sshd.port),
      `root@${sshd.host}`,
      'echo args',
    ]);
    expect(viaArgs.stderr).toBe('');
    expect(viaArgs.stdout.toString()).toBe('args\n');
    expect(viaArgs.code).toBe(0);
    // Two configurations, two pooled connections, in the daemon: the config's again is reused.
    expect(await sshd.countLogins('root')).toBe(before + 2);
    const again = await box.ssh(['-F', backslashed, 'acc', 'echo again']);
    expect(again.stdout.toString()).toBe('again\n');
    expect(await sshd.countLogins('root')).toBe(before + 2);
    expect(box.daemonPids()).toHaveLength(1);
    // The daemon's directory really is on another drive than the files.
    expect(winPath(box.daemonDir)).toMatch(/^C:/);
    expect(winPath(sshd.keyPath)).toMatch(/^Z:/);
  });

  // The merge point of issue 15's item 4 (the lead's challenge–response hello) on real pipes.
  it('a stranger holding the predictable pipe name before any daemon receives nothing at all', async () => {
    const box = sandbox();
    const record = path.join(box.root, 'squatter-base');
    const squatter = await squat(setup, basePipe(box), record);
    try {
      const r = await box.remote('echo ran');
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe('ran\n');
      expect(r.code).toBe(0);
      // Our daemon listens on a name of its own: the predictable one is never connected to.
      const ours = readFileSync(path.join(box.daemonDir, 'pipe'), 'utf8');
      expect(ours.startsWith(`${basePipe(box)}-`)).toBe(true);
      expect(box.daemonPids()).toHaveLength(1);
      expect(squatter.got().length).toBe(0);
    } finally {
      squatter.stop();
    }
  });

  it('a stranger taking a dead daemon’s recorded pipe gets a nonce and nothing that authenticates; the command runs in-process', async () => {
    const box = sandbox();
    expect((await box.remote('true')).code).toBe(0);
    const recorded = readFileSync(path.join(box.daemonDir, 'pipe'), 'utf8');
    const token = readFileSync(path.join(box.daemonDir, 'token'), 'utf8').trim();
    const [pid] = box.daemonPids();
    process.kill(pid!, 'SIGKILL');
    expect(await box.waitForDaemons(0)).toEqual([]);
    const record = path.join(box.root, 'squatter-recorded');
    const squatter = await squat(setup, recorded, record);
    try {
      const before = await sshd.countLogins('root');
      const r = await box.remote('echo ran');
      expect(r.stdout.toString()).toBe('ran\n');
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/did not prove it is this user's daemon \(no proof: .*\); not using it/);
      // In-process (its own login), and no daemon started behind the stranger's back.
      expect(await sshd.countLogins('root')).toBe(before + 1);
      expect(box.daemonPids()).toEqual([]);
      const wire = squatter.got();
      expect(wire.length).toBeGreaterThan(0);
      expect(wire.includes(token)).toBe(false);
      expect(wire.toString('latin1')).toMatch(/"nonce":"[0-9a-f]{64}"/);
      expect(wire.toString('latin1')).not.toMatch(/proof/);
      const check = await box.ssh(['-O', 'check', 'x']);
      expect(check.stderr).toMatch(/^Control socket connect\(.*\): .*did not prove it is this user's daemon/);
      expect(check.code).toBe(255);
    } finally {
      squatter.stop();
    }
  });
});
