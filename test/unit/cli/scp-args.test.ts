import { describe, expect, it } from 'vitest';
import { parseScpArgs, SCP_USAGE, ScpArgError } from '../../../src/cli/scp-args.js';
import { colonIndex, parseOperand } from '../../../src/cli/scp-operand.js';

const fails = (argv: string[]) => {
  try {
    parseScpArgs(argv);
  } catch (err) {
    if (err instanceof ScpArgError) return { code: err.exitCode, text: err.message };
    throw err;
  }
  throw new Error('parsed');
};

describe('parseScpArgs (scp 9.2 getopt)', () => {
  it('maps scp flags onto ssh options and its own', () => {
    const a = parseScpArgs([
      '-rpq3',
      '-P',
      '2222',
      '-i',
      'key',
      '-oUser=x',
      '-F',
      'cfg',
      '-J',
      'jump',
      '-l',
      '800',
      '-4',
      '-C',
      '-B',
      'src',
      'host:dst',
    ]);
    expect(a).toMatchObject({ recursive: true, preserve: true, quiet: true, port: 2222, throughLocal: true });
    expect(a.sshOptions).toEqual([
      '-q',
      '-i',
      'key',
      '-o',
      'User=x',
      '-F',
      'cfg',
      '-J',
      'jump',
      '-4',
      '-C',
      '-oBatchmode=yes',
    ]);
    expect(a.limitBytesPerSecond).toBe((800 * 1024) / 8);
    expect(a.operands).toEqual(['src', 'host:dst']);
    expect(a.targetShouldBeDirectory).toBe(false);
  });

  it('stops at the first operand (no permutation) and after --', () => {
    expect(parseScpArgs(['a', '-r', 'b']).operands).toEqual(['a', '-r', 'b']);
    expect(parseScpArgs(['--', '-a', 'b']).operands).toEqual(['-a', 'b']);
    expect(parseScpArgs(['a', 'b', 'c']).targetShouldBeDirectory).toBe(true);
  });

  it('-X buffer= and nrequests= tune the SFTP client', () => {
    expect(parseScpArgs(['-X', 'buffer=64k', '-Xnrequests=8', 'a', 'b'])).toMatchObject({
      bufferLength: 65536,
      requests: 8,
    });
    expect(fails(['-X', 'buffer=1M', 'a', 'b']).code).toBe(255);
    expect(fails(['-X', 'bogus', 'a', 'b']).text).toBe('scp: Invalid -X option\r\n');
  });

  it('errors as scp words them: usage 1, fatal 255', () => {
    expect(fails(['-Z', 'a', 'b'])).toEqual({ code: 1, text: `scp: unknown option -- Z\r\n${SCP_USAGE}` });
    expect(fails(['-P'])).toEqual({ code: 1, text: `scp: option requires an argument -- P\r\n${SCP_USAGE}` });
    expect(fails(['onlyone'])).toEqual({ code: 1, text: SCP_USAGE });
    expect(fails(['-P', '0', 'a', 'b'])).toEqual({ code: 255, text: 'scp: bad port "0"\n\r\n' });
    expect(fails(['-1', 'a', 'b'])).toEqual({
      code: 255,
      text: 'scp: SSH protocol v.1 is no longer supported\r\n',
    });
    expect(fails(['-l', '0', 'a', 'b']).code).toBe(1);
  });

  it('refuses what it does not honour, naming the option and what to do', () => {
    for (const flag of ['-O', '-R', '-A', '-S']) {
      const argv = flag === '-S' ? [flag, 'x', 'a', 'b'] : [flag, 'a', 'b'];
      const r = fails(argv);
      expect(r.code).toBe(255);
      expect(r.text).toContain(`option ${flag} is not supported by sshmux scp`);
    }
  });
});

describe('scp operands (misc.c colon, parse_user_host_path, parse_uri)', () => {
  it('tells local from remote as scp does', () => {
    expect(parseOperand('host:path')).toEqual({
      kind: 'remote',
      user: undefined,
      host: 'host',
      port: undefined,
      path: 'path',
    });
    expect(parseOperand('u@h:')).toEqual({
      kind: 'remote',
      user: 'u',
      host: 'h',
      port: undefined,
      path: '.',
    });
    expect(parseOperand('a@b@h:x')).toMatchObject({ user: 'a@b', host: 'h' });
    expect(parseOperand('[::1]:/tmp/x')).toMatchObject({ kind: 'remote', host: '::1', path: '/tmp/x' });
    expect(parseOperand('u@[fe80::1]:y')).toMatchObject({ user: 'u', host: 'fe80::1', path: 'y' });
    expect(parseOperand('./a:b')).toEqual({ kind: 'local', path: './a:b' });
    expect(parseOperand('dir/x:y')).toEqual({ kind: 'local', path: 'dir/x:y' });
    expect(parseOperand(':leading')).toEqual({ kind: 'local', path: ':leading' });
    expect(colonIndex('plain')).toBe(-1);
  });

  it('scp:// URIs with user, port and a percent-encoded path', () => {
    expect(parseOperand('scp://me@host:2200/dir/a%20b')).toEqual({
      kind: 'remote',
      user: 'me',
      host: 'host',
      port: 2200,
      path: 'dir/a b',
    });
    expect(parseOperand('scp://[::1]/x')).toMatchObject({ host: '::1', path: 'x' });
    expect(parseOperand('scp://host')).toMatchObject({ host: 'host', path: '.' });
    expect(parseOperand('scp://host:0/x')).toEqual({ kind: 'invalid' });
    expect(parseOperand('scp://@host/x')).toEqual({ kind: 'invalid' });
  });
});
