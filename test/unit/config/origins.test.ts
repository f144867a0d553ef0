import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionStore } from '../../../src/config/option-store.js';
import { resolveHostConfig } from '../../../src/config/resolve.js';
import { itPosix } from '../../helpers/posix-only.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function config(text: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-origins-'));
  made.push(dir);
  for (const [name, body] of Object.entries({ config: text, ...extra })) {
    writeFileSync(path.join(dir, name), body.replaceAll('@DIR@', dir));
    chmodSync(path.join(dir, name), 0o644);
  }
  return path.join(dir, 'config');
}

const base = { localUser: 'me', localHostname: 'box', uid: 1000, env: {}, homeDir: '/home/me' };

describe('HostConfig.origins', () => {
  it('names the file and line each value came from, first value winning', async () => {
    const file = config(
      'Host web\n  HostName 10.0.0.5\n  User deploy\n\nHost *\n  User other\n  Port 2222\n',
    );
    const hc = await resolveHostConfig('web', { ...base, configFile: file });
    expect(hc.origins?.get('hostname')).toEqual([`${file}:2`]);
    expect(hc.origins?.get('user')).toEqual([`${file}:3`]);
    expect(hc.origins?.get('port')).toEqual([`${file}:7`]);
    // Not configured anywhere: no origin, i.e. the default.
    expect(hc.origins?.has('stricthostkeychecking')).toBe(false);
  });

  itPosix('POSIX absolute paths (Include @DIR@/…)')('follows Include into the included file', async () => {
    const file = config('Include @DIR@/inc\n', { inc: '# comment\nHost *\n  IdentityFile ~/.ssh/a\n' });
    const hc = await resolveHostConfig('h', { ...base, configFile: file });
    expect(hc.origins?.get('identityfile')).toEqual([`${path.join(path.dirname(file), 'inc')}:3`]);
  });

  it('says -o, -p, -l and destination for values from the command line', async () => {
    const file = config('Host *\n  Port 2200\n  User cfg\n  UserKnownHostsFile /a /b\n');
    const hc = await resolveHostConfig('ssh://x@h:2022', {
      ...base,
      configFile: file,
      commandLine: [{ kind: 'line', text: 'StrictHostKeyChecking=accept-new' }],
      port: 2300,
    });
    expect(hc.origins?.get('stricthostkeychecking')).toEqual(['-o']);
    expect(hc.origins?.get('port')).toEqual(['-p']);
    expect(hc.port).toBe(2300);
    expect(hc.origins?.get('user')).toEqual(['destination']);
    expect(hc.origins?.get('userknownhostsfile')).toEqual([`${file}:4`, `${file}:4`]);
  });

  it('keeps each accumulated value with its own line', async () => {
    const file = config('Host *\n  IdentityFile /k1\nHost h\n  IdentityFile /k2\n');
    const hc = await resolveHostConfig('h', { ...base, configFile: file });
    expect(hc.identityFiles).toEqual(['/k1', '/k2']);
    expect(hc.origins?.get('identityfile')).toEqual([`${file}:2`, `${file}:4`]);
  });
});

describe('OptionStore origins', () => {
  it('keeps the origin of values that survive a replace (SendEnv -pattern)', () => {
    const s = new OptionStore();
    s.origin = 'f:1';
    s.append('sendenv', ['LANG', 'LC_ALL']);
    s.origin = 'f:2';
    s.append('sendenv', ['TERM']);
    s.origin = 'f:3';
    s.replace('sendenv', ['LANG', 'TERM']);
    expect(s.origins().get('sendenv')).toEqual(['f:1', 'f:2']);
    s.replace('sendenv', []);
    expect(s.origins().has('sendenv')).toBe(false);
  });
});
