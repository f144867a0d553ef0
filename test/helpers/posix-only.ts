import { describe, it, type TestFunction } from 'vitest';

/** True under Windows node, where the POSIX tools some unit tests compare against do not exist. */
export const onWindows = process.platform === 'win32';

/**
 * The mark a test's title carries when it is skipped on Windows, naming what it needs:
 * test/helpers/windows-skip-reporter.ts counts these and fails a win32 run on any other skip.
 */
export function windowsSkipMark(needs: string): string {
  return `[skipped on Windows: needs ${needs}]`;
}

/**
 * `it` for a test that runs a POSIX tool Windows lacks (`needs`: e.g. 'sh', 'ssh-keygen'):
 * skipped on win32 with the tool in its title, never silently. For `.each` tables, wrap
 * them in {@link describePosix}.
 */
export function itPosix(needs: string) {
  const mark = windowsSkipMark(needs);
  return (name: string, fn?: TestFunction, timeout?: number): void => {
    (onWindows ? it.skip : it)(`${name} ${mark}`, fn, timeout);
  };
}

/** `describe` for a block whose every test needs a POSIX tool (see {@link itPosix}). */
export function describePosix(needs: string) {
  const mark = windowsSkipMark(needs);
  return (name: string, fn: () => void): void => {
    (onWindows ? describe.skip : describe)(`${name} ${mark}`, fn);
  };
}
