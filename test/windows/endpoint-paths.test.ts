import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { WineSandbox, type WineSetup, wineSetup, winPath } from '../helpers/wine.js';

/** Issue 15, defects 1 and 2, under Windows node.exe: where the daemon is, and which files it reads. */
describe('Windows tier: the endpoint and the paths the daemon reads', () => {
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
});
