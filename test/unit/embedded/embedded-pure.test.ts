import { constants } from 'node:fs';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../helpers/embedded/embedded-options.js';
import { shellInvocation } from '../../helpers/embedded/local-shell.js';
import { modeString } from '../../helpers/embedded/sftp-longname.js';
import { openFlags, toLocal, toRemote } from '../../helpers/embedded/sftp-server.js';

describe('embedded server: pure parts', () => {
  it('validates its options once: MaxSessions from 1, AcceptEnv patterns as sshd matches them', () => {
    expect(() => resolveOptions({ maxSessions: 0 })).toThrow(
      /`maxSessions` to be an integer from 1 and up, got `0`/,
    );
    expect(() => resolveOptions({ maxSessions: 1.5 })).toThrow(/maxSessions/);
    const o = resolveOptions({});
    expect(Object.isFrozen(o)).toBe(true);
    expect(o.maxSessions).toBe(4);
    const accepts = (name: string) => o.acceptEnv.some((re) => re.test(name));
    expect(['LANG', 'LC_ALL', 'LC_', 'GIT_PROTOCOL'].every(accepts)).toBe(true);
    expect(['LANGUAGE', 'PATH', 'XLC_ALL', 'GIT_PROTOCOLX'].some(accepts)).toBe(false);
    const q = resolveOptions({ acceptEnv: ['A?C', 'X.*'] });
    expect(q.acceptEnv.some((re) => re.test('ABC'))).toBe(true);
    expect(q.acceptEnv.some((re) => re.test('XYZ'))).toBe(false);
    expect(q.acceptEnv.some((re) => re.test('X.anything'))).toBe(true);
    expect(resolveOptions({ users: ['git'] }).users).toEqual(new Set(['git']));
  });

  it('writes ls -l mode strings as sftp-server does', () => {
    expect(modeString(0o100644)).toBe('-rw-r--r--');
    expect(modeString(0o040755)).toBe('drwxr-xr-x');
    expect(modeString(0o120777)).toBe('lrwxrwxrwx');
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o102644)).toBe('-rw-r-Sr--');
    expect(modeString(0o041777)).toBe('drwxrwxrwt');
    expect(modeString(0o041776)).toBe('drwxrwxrwT');
  });

  it('maps wire paths to local ones relative to home, and Windows drives as OpenSSH for Windows', () => {
    expect(toLocal('a/b', '/home/u', 'linux')).toBe('/home/u/a/b');
    expect(toLocal('/etc/x', '/home/u', 'linux')).toBe('/etc/x');
    expect(toLocal('.', '/home/u', 'linux')).toBe('/home/u');
    expect(toLocal('/C:/Users/u/f', 'D:\\h', 'win32')).toBe('C:\\Users\\u\\f');
    expect(toLocal('/C:', 'D:\\h', 'win32')).toBe('C:\\');
    expect(toLocal('sub/f', 'D:\\h', 'win32')).toBe('D:\\h\\sub\\f');
    expect(toRemote('C:\\Users\\u', 'win32')).toBe('/C:/Users/u');
    expect(toRemote('/home/u', 'linux')).toBe('/home/u');
  });

  it('maps SFTP open flags to open(2) flags bit by bit, including combinations ssh2 has no name for', () => {
    const M = ssh2.utils.sftp.OPEN_MODE;
    expect(openFlags(M.READ)).toBe(constants.O_RDONLY);
    expect(openFlags(M.WRITE | M.CREAT)).toBe(constants.O_WRONLY | constants.O_CREAT);
    expect(openFlags(M.READ | M.WRITE)).toBe(constants.O_RDWR);
    expect(openFlags(M.WRITE | M.CREAT | M.TRUNC | M.EXCL)).toBe(
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_EXCL,
    );
    expect(openFlags(M.WRITE | M.APPEND)).toBe(constants.O_WRONLY | constants.O_APPEND);
  });

  it('runs commands by sh -c on POSIX and cmd.exe /d /s /c verbatim on Windows', () => {
    expect(shellInvocation('echo hi', 'linux')).toEqual({
      file: '/bin/sh',
      args: ['-c', 'echo hi'],
      options: {},
    });
    const win = shellInvocation('echo "a b" & ver', 'win32');
    expect(win.args).toEqual(['/d', '/s', '/c', '"echo "a b" & ver"']);
    expect(win.options).toEqual({ windowsVerbatimArguments: true });
    expect(shellInvocation(undefined, 'linux').args).toEqual([]);
  });
});
