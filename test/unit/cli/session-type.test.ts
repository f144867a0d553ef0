import { describe, expect, it } from 'vitest';
import { requestKind, sessionErrorText } from '../../../src/cli/session-request.js';
import { parseSshArgs } from '../../../src/cli/ssh-args.js';
import { ChannelError, NetworkError } from '../../../src/errors.js';

// The words are OpenSSH 9.2's (ssh.c), checked by running /usr/bin/ssh with the same argv.
describe('-N, -s and SessionType on the command line (ssh.c)', () => {
  it.each([
    [['-N', '-s', 'h', 'x'], 'Cannot specify -s with -N/SessionType'],
    [['-s', '-N', 'h', 'x'], 'Cannot specify -N with -s/SessionType'],
    [['-o', 'SessionType=none', '-s', 'h', 'x'], 'Cannot specify -s with -N/SessionType'],
    [['-oSessionType subsystem', '-N', 'h', 'x'], 'Cannot specify -N with -s/SessionType'],
    [['-W', 'a:1', '-s', 'h', 'x'], 'Cannot specify -s with -N/SessionType'],
  ])('%j fails: %s', (argv, message) => {
    expect(() => parseSshArgs(argv)).toThrow(message);
  });

  it.each([
    [['-N', '-N', 'h']],
    [['-s', '-s', 'h', 'sftp']],
    [['-o', 'SessionType=none', '-N', 'h']],
    [['-s', '-o', 'SessionType=none', 'h', 'sftp']],
  ])('%j is accepted', (argv) => {
    expect(() => parseSshArgs(argv)).not.toThrow();
  });

  it('-s without a subsystem name: "You must specify a subsystem to invoke." and the usage', () => {
    let text = '';
    try {
      parseSshArgs(['-s', 'h']);
    } catch (err) {
      text = (err as Error).message;
    }
    expect(text).toMatch(
      /^You must specify a subsystem to invoke\.\nusage: ssh \[-46AaCfGgKkMNnqsTtVvXxYy\]/,
    );
  });

  it('takes what scp and sftp pass to their -S program', () => {
    const scp = parseSshArgs([
      '-x',
      '-oPermitLocalCommand=no',
      '-oClearAllForwardings=yes',
      '-oRemoteCommand=none',
      '-oRequestTTY=no',
      '-oControlMaster=no',
      '-v',
      '-C',
      '-oForwardAgent=no',
      '-l',
      'u',
      '-p',
      '2222',
      '-s',
      '--',
      'h',
      'sftp',
    ]);
    expect(scp).toMatchObject({ destination: 'h', user: 'u', port: 2222, command: ['sftp'], printOnly: [] });
    const sftp = parseSshArgs([
      '-oForwardX11 no',
      '-oPermitLocalCommand no',
      '-oClearAllForwardings yes',
      '-obatchmode yes',
      '-oForwardAgent no',
      '-oPort 2222',
      '-s',
      '--',
      'h',
      'sftp',
    ]);
    expect(sftp).toMatchObject({ destination: 'h', command: ['sftp'], printOnly: [] });
  });
});

describe('requestKind (ssh.c / clientloop.c)', () => {
  it.each([
    ['none', 'x', 'none'],
    ['none', '', 'none'],
    ['subsystem', 'sftp', 'subsystem'],
    // clientloop.c sends a shell request when the subsystem has no name (SessionType from a file).
    ['subsystem', '', 'shell'],
    ['default', 'ls', 'exec'],
    ['default', '', 'shell'],
  ] as const)('SessionType %s with command %j → %s', (sessionType, command, kind) => {
    expect(requestKind({ sessionType, command })).toBe(kind);
  });
});

describe('sessionErrorText', () => {
  it("words a refused subsystem as ssh's log line, nothing else", () => {
    const refused = new ChannelError('x', { code: 'SSHMUX_ERR_SUBSYSTEM' });
    expect(sessionErrorText(refused)).toBe('subsystem request failed on channel 0\r\n');
    expect(sessionErrorText(new ChannelError('x'))).toBeUndefined();
    expect(sessionErrorText(new NetworkError('x'))).toBeUndefined();
  });
});
