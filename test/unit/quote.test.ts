import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArg, shellCommand } from '../../src/quote.js';
import { itPosix } from '../helpers/posix-only.js';

const HOSTILE = [
  'plain',
  '',
  ' ',
  "it's",
  '"double"',
  '$(touch /tmp/pwned)',
  '`id`',
  'a;b',
  'a|b&c',
  'new\nline',
  '-rf',
  '--',
  '*',
  '~',
  '!bang',
  '\\back\\slash',
  "'''",
  'tab\there',
  'unicodé ✓',
  '$HOME',
  '%s%n',
];

/** Run the quoted command line through real POSIX shells and read back argv as NUL-separated bytes. */
function roundTrip(shell: string, args: string[]): string[] {
  const line = shellCommand(['printf', '%s\\0', ...args]);
  const out = execFileSync(shell, ['-c', line], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shellCommand', () => {
  for (const shell of ['/bin/sh', '/bin/bash']) {
    itPosix(shell)(`passes hostile arguments through ${shell} as data only`, () => {
      expect(roundTrip(shell, HOSTILE)).toEqual(HOSTILE);
    });
  }

  it('leaves safe words bare so logs stay readable', () => {
    expect(shellCommand(['btrfs', 'receive', '/mnt/b-1/x_y.z', 'a=b', 'u@h:p'])).toBe(
      'btrfs receive /mnt/b-1/x_y.z a=b u@h:p',
    );
  });

  it('quotes the empty string so it stays an argument', () => {
    expect(quoteArg('')).toBe("''");
  });

  it('passes a string command through unchanged (the caller quoted it)', () => {
    expect(shellCommand('echo $HOME | wc -c')).toBe('echo $HOME | wc -c');
  });

  it('refuses NUL bytes and empty argv with a clear error', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL byte/);
    expect(() => shellCommand([])).toThrow(/non-empty argv/);
  });
});
