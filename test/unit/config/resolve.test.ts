import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_INCLUDE_DEPTH } from '../../../src/config/config-reader.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { resolveHostConfig } from '../../../src/config/resolve.js';
import { formatSshG } from '../../../src/config/ssh-g.js';
import { ConfigError } from '../../../src/errors.js';
import { onWindows } from '../../helpers/posix-only.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-resolve-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text.replaceAll('@DIR@', dir));
    chmodSync(file, 0o644);
  }
  return dir;
}

const base = { localUser: 'me', localHostname: 'box', uid: 1000, env: {} };

describe('resolveHostConfig', () => {
  it('names file and line of a bad value', async () => {
    const dir = tree({ config: 'Host *\n  User x\n  Port 0\n' });
    const err = await resolveHostConfig('h', { ...base, configFile: path.join(dir, 'config') }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const file = path.join(dir, 'config');
    expect(err.message).toBe(
      `${file} line 3: Bad port '0'.\n${file}: terminating, 1 bad configuration options`,
    );
  });

  it('rejects bad values even inside a block that does not apply, like OpenSSH', async () => {
    const dir = tree({ config: 'Host other\n  StrictHostKeyChecking maybe\n' });
    await expect(resolveHostConfig('h', { ...base, configFile: path.join(dir, 'config') })).rejects.toThrow(
      /config line 2: unsupported option "maybe"/,
    );
  });

  it(`stops Include recursion deeper than ${MAX_INCLUDE_DEPTH}`, async () => {
    const files: Record<string, string> = { config: 'Include @DIR@/1.conf\n' };
    for (let i = 1; i <= MAX_INCLUDE_DEPTH; i++) files[`${i}.conf`] = `Include @DIR@/${i + 1}.conf\n`;
    files[`${MAX_INCLUDE_DEPTH + 1}.conf`] = 'Port 2000\n';
    const dir = tree(files);
    await expect(resolveHostConfig('h', { ...base, configFile: path.join(dir, 'config') })).rejects.toThrow(
      /^Too many recursive configuration includes$/,
    );
    files[`${MAX_INCLUDE_DEPTH}.conf`] = 'Port 2001\n';
    const ok = tree(files);
    expect((await resolveHostConfig('h', { ...base, configFile: path.join(ok, 'config') })).port).toBe(2001);
  });

  it('reads relative Includes from ~/.ssh for the user file', async () => {
    const home = tree({
      '.ssh/config': 'Include extra/*.conf\n',
      '.ssh/extra/a.conf': 'Host h\n  User included\n',
    });
    const hc = await resolveHostConfig('h', { ...base, homeDir: home });
    expect(hc.user).toBe('included');
    // The same file; on Windows written as Win32-OpenSSH writes it, `C:\\Users\\me/.ssh/id_rsa`.
    expect(path.resolve(hc.identityFiles[0]!)).toBe(path.join(home, '.ssh/id_rsa'));
  });

  it("refuses Match exec unless allowed, and runs it through the platform's shell when allowed", async () => {
    // sh on POSIX; %ComSpec% (cmd.exe) on Windows, as Win32-OpenSSH's system() does.
    const check = onWindows ? 'if %h==h (exit 0) else (exit 1)' : 'test %h = h';
    const dir = tree({ config: `Match exec "${check}"\n  User ran\n` });
    const configFile = path.join(dir, 'config');
    await expect(resolveHostConfig('h', { ...base, configFile })).rejects.toThrow(/Match exec is disabled/);
    expect((await resolveHostConfig('h', { ...base, configFile, allowMatchExec: true })).user).toBe('ran');
  });

  it('uses the Windows locations when the platform is win32', async () => {
    const hc = await resolveHostConfig('h', {
      ...base,
      configFile: 'none',
      platform: 'win32',
      homeDir: 'C:\\Users\\me',
      env: { PROGRAMDATA: 'C:\\ProgramData' },
    });
    expect(hc.userKnownHostsFiles).toEqual([
      'C:\\Users\\me\\.ssh/known_hosts',
      'C:\\Users\\me\\.ssh/known_hosts2',
    ]);
    expect(hc.globalKnownHostsFiles).toEqual([
      'C:\\ProgramData\\ssh\\ssh_known_hosts',
      'C:\\ProgramData\\ssh\\ssh_known_hosts2',
    ]);
  });

  it('maps typed fields and keeps a frozen result with a pool key', async () => {
    const dir = tree({
      config:
        'Host h\n  ProxyJump ssh://j@jump:2200,k@[::1]:22\n  ControlPersist 10m\n  ConnectTimeout 5\n  SetEnv A=1\n',
    });
    const hc = await resolveHostConfig('h', { ...base, configFile: path.join(dir, 'config') });
    expect(Object.isFrozen(hc)).toBe(true);
    expect(hc.proxyJump).toEqual(['j@jump:2200', 'k@[::1]:22']);
    expect(hc.controlPersistSeconds).toBe(600);
    expect(hc.connectTimeoutMs).toBe(5000);
    expect(hc.setEnv).toEqual({ A: '1' });
    expect(hc.poolKey).not.toBe('');
  });

  it('fails on an unknown keyword as ssh does, unless IgnoreUnknown names it first', async () => {
    const dir = tree({ config: 'Frob 1\nIgnoreUnknown frob\nFrob 2\nPort 2022\n' });
    const file = path.join(dir, 'config');
    await expect(resolveHostConfig('h', { ...base, configFile: file })).rejects.toThrow(
      `${file}: line 1: Bad configuration option: frob\n${file}: terminating, 1 bad configuration options`,
    );
    const ok = tree({ config: 'IgnoreUnknown Fr*\nFrob 2\nPort 2022\n' });
    const hc = await resolveHostConfig('h', { ...base, configFile: path.join(ok, 'config') });
    expect(hc.port).toBe(2022);
    expect(formatSshG(hc)).not.toMatch(/frob/);
  });

  it('formats a plain HostConfig too', () => {
    const out = formatSshG(plainHostConfig({ host: 'p.example', user: 'u', port: 2022 }));
    expect(out).toMatch(/^host p.example\nuser u\nhostname p.example\nport 2022\n/);
  });
});
