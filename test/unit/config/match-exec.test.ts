import { describe, expect, it } from 'vitest';
import { matchExecInvocation, runMatchExec } from '../../../src/config/match-exec.js';
import { ConfigError } from '../../../src/errors.js';
import { onWindows } from '../../helpers/posix-only.js';

describe('matchExecInvocation', () => {
  it('runs `$SHELL -c command` on POSIX, /bin/sh when SHELL is unset or empty', () => {
    expect(matchExecInvocation('test %h = h', 'linux', { SHELL: '/bin/bash' })).toEqual({
      file: '/bin/bash',
      args: ['-c', 'test %h = h'],
      windowsVerbatimArguments: false,
    });
    expect(matchExecInvocation('true', 'darwin', { SHELL: '' }).file).toBe('/bin/sh');
    expect(matchExecInvocation('true', 'linux', {}).file).toBe('/bin/sh');
  });

  it("runs `%ComSpec% /c command` on Windows as the C runtime's system() does, the line untouched", () => {
    const line = '"C:\\Program Files\\check.exe" "a b" & exit 1';
    expect(
      matchExecInvocation(line, 'win32', { ComSpec: 'C:\\Windows\\system32\\cmd.exe', SHELL: '/bin/sh' }),
    ).toEqual({
      file: 'C:\\Windows\\system32\\cmd.exe',
      args: ['/c', line],
      windowsVerbatimArguments: true,
    });
    // Windows names are case-insensitive; an unset or empty ComSpec means cmd.exe from PATH.
    expect(matchExecInvocation('x', 'win32', { COMSPEC: 'D:\\cmd.exe' }).file).toBe('D:\\cmd.exe');
    expect(matchExecInvocation('x', 'win32', { comspec: '' }).file).toBe('cmd.exe');
    expect(matchExecInvocation('x', 'win32', {}).file).toBe('cmd.exe');
  });
});

describe('runMatchExec on this platform', () => {
  const env = { ...process.env };

  it("returns the command's exit status through the platform's shell", async () => {
    expect(await runMatchExec('exit 0', process.platform, env, 'config line 1')).toBe(0);
    expect(await runMatchExec('exit 3', process.platform, env, 'config line 1')).toBe(3);
  });

  it("applies the shell's own syntax: cmd.exe's on Windows, sh's elsewhere", async () => {
    const cond = onWindows ? 'if one==%s (exit 0) else (exit 1)' : 'test one = %s';
    expect(await runMatchExec(cond.replace('%s', 'one'), process.platform, env, 'l')).toBe(0);
    expect(await runMatchExec(cond.replace('%s', 'two'), process.platform, env, 'l')).toBe(1);
  });

  it('fails as ssh words it when the shell cannot run', async () => {
    const bad = onWindows ? { ComSpec: 'C:\\nonexistent\\cmd.exe' } : { SHELL: '/nonexistent/shell' };
    const err = await runMatchExec('exit 0', process.platform, bad, 'cfg line 2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      onWindows
        ? "cfg line 2: match exec 'exit 0' error"
        : 'Shell "/nonexistent/shell" is not executable: spawn /nonexistent/shell ENOENT',
    );
  });
});
