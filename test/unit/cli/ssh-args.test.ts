import { describe, expect, it } from 'vitest';
import { parseSshArgs, remoteCommandLine } from '../../../src/cli/ssh-args.js';

describe('parseSshArgs (OpenSSH grammar)', () => {
  it('parses what git passes: -G probe and the real call', () => {
    const probe = parseSshArgs(['-G', '-o', 'SendEnv=GIT_PROTOCOL', '-p', '2222', 'u@h']);
    expect(probe).toMatchObject({
      printConfig: true,
      destination: 'h',
      user: 'u',
      port: 2222,
      options: [['SendEnv', 'GIT_PROTOCOL']],
      command: [],
    });
    const real = parseSshArgs(['-o', 'SendEnv=GIT_PROTOCOL', '-4', 'u@h', "git-upload-pack 'repo.git'"]);
    expect(real.addressFamily).toBe('inet');
    expect(real.command).toEqual(["git-upload-pack 'repo.git'"]);
  });

  it('takes values attached or separate, and clustered flags', () => {
    const a = parseSshArgs(['-p22', '-lbob', '-ikey', '-oBatchMode=yes', '-Tqvvv', 'host', 'ls']);
    expect(a).toMatchObject({ port: 22, user: 'bob', identityFiles: ['key'], quiet: true, verbosity: 3 });
    expect(a.requestTty).toBe('no');
    expect(a.options).toEqual([['BatchMode', 'yes']]);
    // A value-taking letter ends the cluster: the rest of the word is its value.
    const b = parseSshArgs(['-qp2222', 'host']);
    expect(b).toMatchObject({ quiet: true, port: 2222 });
    const c = parseSshArgs(['-vi', 'id_x', 'host']);
    expect(c).toMatchObject({ verbosity: 1, identityFiles: ['id_x'] });
  });

  it('accepts -o with `=` or whitespace between key and value', () => {
    const a = parseSshArgs(['-o', 'User alice', '-o', 'Port = 2200', '-o', 'IdentityFile=/a=b', 'h']);
    expect(a.options).toEqual([
      ['User', 'alice'],
      ['Port', '2200'],
      ['IdentityFile', '/a=b'],
    ]);
    // A bad -o is left to the config-line parser, which words the error as ssh (see the -G suite).
    expect(parseSshArgs(['-o', 'NoValue', 'h']).items).toEqual([{ kind: 'line', text: 'NoValue' }]);
  });

  it('keeps the first -p and -l, like OpenSSH, and the user of user@host only if -l came later', () => {
    expect(parseSshArgs(['-p', '1', '-p', '2', 'h']).port).toBe(1);
    expect(parseSshArgs(['-l', 'bob', 'alice@h']).user).toBe('bob');
    expect(parseSshArgs(['alice@h', '-l', 'bob', 'cmd']).user).toBe('alice');
    expect(parseSshArgs(['a@b@h']).user).toBe('a@b');
    expect(parseSshArgs(['a@b@h']).destination).toBe('h');
  });

  it('parses options after the destination until the first command word', () => {
    const a = parseSshArgs(['h', '-p', '2222', '-T', 'ls', '-l', '-p']);
    expect(a.port).toBe(2222);
    expect(a.command).toEqual(['ls', '-l', '-p']);
    expect(remoteCommandLine(a)).toBe('ls -l -p');
  });

  it('ends options at -- (after which the first word is the host, the rest the command)', () => {
    const a = parseSshArgs(['-p', '22', '--', 'h', '-v', 'x']);
    expect(a.destination).toBe('h');
    expect(a.verbosity).toBe(0);
    expect(a.command).toEqual(['-v', 'x']);
    const b = parseSshArgs(['h', '--', '-v']);
    expect(b.command).toEqual(['-v']);
  });

  it('parses ssh:// URLs with ports and users, as OpenSSH (no IP literals, no path)', () => {
    expect(parseSshArgs(['ssh://git@example.com:2222/'])).toMatchObject({
      destination: 'example.com',
      user: 'git',
      port: 2222,
    });
    expect(parseSshArgs(['-p', '7', 'ssh://h:22']).port).toBe(7);
    expect(parseSshArgs(['ssh://h:22', '-p', '7']).port).toBe(22);
    expect(() => parseSshArgs(['ssh://h:99999'])).toThrow(/port `99999`/);
    expect(() => parseSshArgs(['ssh://h/path'])).toThrow(/no path/);
    expect(() => parseSshArgs(['ssh://[::1]:22'])).toThrow(/not a host name/);
  });

  it('handles -t, -tt and -T with the last one winning', () => {
    expect(parseSshArgs(['-t', 'h']).requestTty).toBe('yes');
    expect(parseSshArgs(['-tt', 'h']).requestTty).toBe('force');
    expect(parseSshArgs(['-t', '-T', 'h']).requestTty).toBe('no');
    expect(parseSshArgs(['-T', '-t', 'h']).requestTty).toBe('yes');
    expect(parseSshArgs(['h']).requestTty).toBe('auto');
  });

  it('maps -4/-6, -n, -C, -J, -F and -O', () => {
    const a = parseSshArgs(['-4', '-6', '-n', '-C', '-J', 'jump', '-F', 'a', '-F', 'b', '-O', 'check', 'h']);
    expect(a.addressFamily).toBe('inet6');
    expect(a.nullStdin).toBe(true);
    expect(a.configFile).toBe('b');
    expect(a.control).toBe('check');
    expect(a.options).toEqual([
      ['Compression', 'yes'],
      ['ProxyJump', 'jump'],
    ]);
    expect(parseSshArgs(['-O', 'exit']).destination).toBe('');
    expect(() => parseSshArgs(['-O', 'forward', 'h'])).toThrow(/control command -O forward is not supported/);
    expect(() => parseSshArgs(['-O', 'foo', 'h'])).toThrow(/^Invalid multiplex command\.$/);
  });

  it('-V stops parsing at once, like ssh', () => {
    expect(parseSshArgs(['-V']).version).toBe(true);
    expect(parseSshArgs(['-vV', '-Z']).version).toBe(true);
  });

  it('refuses unsupported and unknown options by name', () => {
    // Flags -G prints but sshmux cannot act on are recorded; runSshCli refuses them unless -G.
    expect(parseSshArgs(['-R', '80:h:80', '-A', 'h']).printOnly).toEqual([]);
    expect(parseSshArgs(['-L', '80:h:80', '-D', '1080', '-W', 'h:22', '-g', 'h']).printOnly).toEqual([]);
    expect(parseSshArgs(['-N', '-A', '-f', 'h']).printOnly).toEqual([]);
    expect(parseSshArgs(['-x', '-a', 'h']).printOnly).toEqual([]);
    // getopt's words, then ssh's usage text, as ssh prints them.
    expect(() => parseSshArgs(['-Z', 'h'])).toThrow(/^unknown option -- Z\r\nusage: ssh /);
    expect(() => parseSshArgs(['-Tz', 'h'])).toThrow(/^unknown option -- z\r\n/);
    expect(() => parseSshArgs(['-p'])).toThrow(/^option requires an argument -- p\r\nusage: ssh /);
    expect(() => parseSshArgs(['-p', 'x', 'h'])).toThrow(/^Bad port 'x'$/);
    expect(() => parseSshArgs([])).toThrow(/^usage: ssh \[-46AaCfGgKkMNnqsTtVvXxYy\]/);
    expect(() => parseSshArgs(['@h'])).toThrow(/empty user/);
  });

  it('accepts the flags that only disable forwarding sshmux never does', () => {
    expect(parseSshArgs(['-x', '-a', '-k', 'h']).destination).toBe('h');
  });

  it('takes "-" as a word, not an option, and refuses it as a host', () => {
    expect(() => parseSshArgs(['-', 'x'])).toThrow(/Bad destination `-`/);
  });
});
