import { describe, expect, it } from 'vitest';
import { formatDoctorText } from '../../../src/cli/doctor-format.js';
import { systemChecks } from '../../../src/doctor/system-checks.js';
import { check } from '../../../src/doctor/types.js';

const facts = {
  nodeVersion: 'v20.19.0',
  platform: 'linux' as const,
  arch: 'x64',
  env: { HOME: '/home/me' },
  accountHome: '/home/me',
  nativeCrypto: true,
};

describe('systemChecks', () => {
  it('passes the Node version engines asks for and fails an older one, with what to install', () => {
    expect(systemChecks(facts).find((c) => c.id === 'node')?.status).toBe('ok');
    expect(systemChecks({ ...facts, nodeVersion: 'v22.1.0' }).find((c) => c.id === 'node')?.status).toBe(
      'ok',
    );
    const old = systemChecks({ ...facts, nodeVersion: 'v20.18.3' }).find((c) => c.id === 'node');
    expect(old?.status).toBe('fail');
    expect(old?.advice).toBe('install Node.js 20.19 or newer');
  });

  it('warns when the native binding is missing, saying how to rebuild it', () => {
    const c = systemChecks({ ...facts, nativeCrypto: false }).find((x) => x.id === 'native-crypto');
    expect(c?.status).toBe('warn');
    expect(c?.summary).toContain('NOT loaded');
    expect(c?.advice).toContain('npm rebuild ssh2');
  });

  it('names the passwd home OpenSSH uses, warning when $HOME points elsewhere', () => {
    expect(systemChecks(facts).find((c) => c.id === 'home')?.status).toBe('ok');
    const c = systemChecks({ ...facts, env: { HOME: '/tmp/h' } }).find((x) => x.id === 'home');
    expect(c?.status).toBe('warn');
    expect(c?.summary).toBe(
      '~/.ssh is /home/me/.ssh (the passwd home, as OpenSSH uses), not $HOME/.ssh (/tmp/h/.ssh)',
    );
  });

  it('on Windows: %USERPROFILE% and the agent pipe', () => {
    const c = systemChecks({ ...facts, platform: 'win32', env: { USERPROFILE: 'C:\\Users\\me' } }).find(
      (x) => x.id === 'home',
    );
    expect(c?.summary).toContain('C:\\Users\\me\\.ssh');
    expect(c?.summary).toContain('\\\\.\\pipe\\openssh-ssh-agent');
  });
});

describe('formatDoctorText', () => {
  it('prints sections, tags, advice under non-ok lines, and the tally', () => {
    const text = formatDoctorText({
      destination: 'h',
      ok: false,
      checks: [
        check({ section: 'system', id: 'a', status: 'ok', summary: 'fine', advice: 'never shown' }),
        check({ section: 'daemon', id: 'b', status: 'warn', summary: 'meh', advice: 'do this' }),
        check({ section: 'daemon', id: 'c', status: 'fail', summary: 'bad', advice: 'do that' }),
      ],
    });
    expect(text).toBe(
      [
        'sshmux doctor h',
        'system:',
        '  ok    fine',
        'daemon:',
        '  WARN  meh',
        '        -> do this',
        '  FAIL  bad',
        '        -> do that',
        '1 problem(s) found, 1 warning(s)',
        '',
      ].join('\n'),
    );
  });
});
