import { describe, expect, it } from 'vitest';
import { ScpArgError } from '../../../src/cli/scp-args.js';
import { parseSftpArgs, SFTP_USAGE } from '../../../src/cli/sftp-args.js';
import { fmtScaled, longLine, strmode } from '../../../src/cli/sftp-ls.js';
import { escapeGlob, splitWords, undoGlobEscape } from '../../../src/cli/sftp-words.js';

describe('sftp command words (makeargv)', () => {
  it('splits on blanks, honours quotes, and keeps quoted glob characters escaped', () => {
    expect(splitWords('  get  a  b ')).toEqual(['get', 'a', 'b']);
    expect(splitWords(`put "with space" 'it''s'`)).toEqual(['put', 'with space', 'its']);
    expect(splitWords('rm "a*b"')).toEqual(['rm', 'a\\*b']);
    expect(splitWords('rm a\\*b c\\ d')).toEqual(['rm', 'a\\*b', 'c d']);
    expect(undoGlobEscape('a\\*b\\[')).toBe('a*b[');
    expect(escapeGlob('/home/x[1]')).toBe('/home/x\\[1\\]');
    expect(() => splitWords('get "open')).toThrow('Unterminated quoted argument');
  });
});

describe('sftp listings (strmode, fmt_scaled, ls_file)', () => {
  it('formats modes, sizes and long lines as OpenSSH does', () => {
    expect(strmode(0o040755)).toBe('drwxr-xr-x ');
    expect(strmode(0o104755)).toBe('-rwsr-xr-x ');
    expect(strmode(0o041777)).toBe('drwxrwxrwt ');
    expect(strmode(0o120777)).toBe('lrwxrwxrwx ');
    expect(strmode(0o102644)).toBe('-rw-r-Sr-- ');
    expect(fmtScaled(6)).toBe('6B');
    expect(fmtScaled(4096)).toBe('4.0K');
    expect(fmtScaled(24.1 * 1024 ** 3)).toBe('24.1G');
    expect(fmtScaled(228 * 1024 ** 3)).toBe('228G');
    const e = { name: 'a.txt', attrs: { mode: 0o100644, size: 6n, mtime: 1577934245 } };
    const now = 1577934245 + 3600;
    expect(longLine(e, 'root', 'root', false, now)).toMatch(
      /^-rw-r--r-- {4}\? root {5}root {12}6 Jan {2}2 \d\d:\d\d a\.txt$/,
    );
    expect(longLine(e, 'root', 'root', false, now + 365 * 86400)).toMatch(/ Jan {2}2 {2}2020 a\.txt$/);
  });
});

describe('parseSftpArgs', () => {
  const fails = (argv: string[]) => {
    try {
      parseSftpArgs(argv);
    } catch (err) {
      if (err instanceof ScpArgError) return { code: err.exitCode, text: err.message };
      throw err;
    }
    throw new Error('parsed');
  };

  it('reads sftp 9.2 options; -b means quiet and BatchMode', () => {
    const a = parseSftpArgs(['-b', '-', '-P', '2222', '-i', 'key', '-oUser=x', '-pr', 'host:dir']);
    expect(a).toMatchObject({
      batchFile: '-',
      quiet: true,
      port: 2222,
      preserve: true,
      recursive: true,
      destination: 'host:dir',
    });
    expect(a.sshOptions).toEqual(['-oBatchMode=yes', '-i', 'key', '-o', 'User=x']);
    expect(parseSftpArgs(['-q', '-N', 'h']).quiet).toBe(false);
    expect(parseSftpArgs(['-D', '/usr/lib/openssh/sftp-server']).direct).toBe('/usr/lib/openssh/sftp-server');
  });

  it('errors as sftp words them', () => {
    expect(fails([])).toEqual({ code: 1, text: SFTP_USAGE });
    expect(fails(['-Z', 'h'])).toEqual({ code: 1, text: `sftp: unknown option -- Z\r\n${SFTP_USAGE}` });
    expect(fails(['-b', 'x', '-b', 'y', 'h'])).toEqual({
      code: 255,
      text: 'Batch file already specified.\r\n',
    });
    expect(fails(['-S', 'ssh', 'h']).text).toContain('option -S is not supported by sshmux sftp');
  });
});
