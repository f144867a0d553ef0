import { describe, expect, it } from 'vitest';
import { fullPath, isFullPath, withClientPaths } from '../../../src/cli/client-paths.js';
import { plainHostConfig } from '../../../src/config/plain.js';

// Issue 15, defect 2: on win32 `path.isAbsolute('/keys/id')` is true, so drive-relative paths
// travelled to the daemon as they were and reached another drive's files there (its cwd is on
// C:): `-F /path/ssh_config` failed through the daemon with "host key … is not known".
describe('client paths for the daemon', () => {
  it('on Windows completes drive-relative and relative paths with the client’s drive and directory', () => {
    const cwd = 'Z:\\work\\repo';
    expect(fullPath('/keys/id', cwd, 'win32')).toBe('Z:\\keys\\id');
    expect(fullPath('\\keys\\id', cwd, 'win32')).toBe('Z:\\keys\\id');
    expect(fullPath('keys/id', cwd, 'win32')).toBe('Z:\\work\\repo\\keys\\id');
    // Already complete: left exactly as written.
    expect(fullPath('C:/Users/bob/.ssh/id', cwd, 'win32')).toBe('C:/Users/bob/.ssh/id');
    expect(fullPath('\\\\server\\share\\id', cwd, 'win32')).toBe('\\\\server\\share\\id');
    expect(fullPath('~/.ssh/id', cwd, 'win32')).toBe('~/.ssh/id');
    expect(isFullPath('/x', 'win32')).toBe(false);
    expect(isFullPath('C:x', 'win32')).toBe(false);
    expect(fullPath('C:x', cwd, 'win32')).toMatch(/^C:\\/);
  });

  it('on POSIX resolves only relative paths and keeps absolute ones as written', () => {
    expect(fullPath('keys/id', '/work', 'linux')).toBe('/work/keys/id');
    expect(fullPath('/a//b', '/work', 'linux')).toBe('/a//b');
    expect(isFullPath('/x', 'linux')).toBe(true);
  });

  it('completes every path-valued setting the daemon reads, hops included', () => {
    const hop = plainHostConfig({
      host: 'jump',
      identityFiles: ['/k/hop'],
      userKnownHostsFiles: ['/kh/hop'],
    });
    const host = withClientPaths(
      {
        ...plainHostConfig({
          host: 'h',
          identityFiles: ['/k/id', 'C:\\k\\other'],
          userKnownHostsFiles: ['\\kh\\known'],
        }),
        identityAgent: '/agent/sock',
        globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts'],
        jumpHosts: [hop],
      },
      'Z:\\work',
      'win32',
    );
    expect(host.identityFiles).toEqual(['Z:\\k\\id', 'C:\\k\\other']);
    expect(host.userKnownHostsFiles).toEqual(['Z:\\kh\\known']);
    expect(host.globalKnownHostsFiles).toEqual(['Z:\\etc\\ssh\\ssh_known_hosts']);
    expect(host.identityAgent).toBe('Z:\\agent\\sock');
    expect(host.jumpHosts?.[0]?.identityFiles).toEqual(['Z:\\k\\hop']);
    expect(host.jumpHosts?.[0]?.userKnownHostsFiles).toEqual(['Z:\\kh\\hop']);
    // The pool key follows: two drives' keys never share a pooled connection.
    expect(host.poolKey).not.toBe(plainHostConfig({ host: 'h', identityFiles: ['/k/id'] }).poolKey);
    expect(Object.isFrozen(host)).toBe(true);
  });

  it('leaves agent names and pipes alone', () => {
    for (const agent of [
      '\\\\.\\pipe\\openssh-ssh-agent',
      'pageant',
      'none',
      'SSH_AUTH_SOCK',
      '$SSH_AUTH_SOCK',
    ]) {
      const host = withClientPaths(
        { ...plainHostConfig({ host: 'h' }), identityAgent: agent },
        'Z:\\w',
        'win32',
      );
      expect(host.identityAgent).toBe(agent);
    }
  });
});
