import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import {
  expandProxyCommand,
  proxyCommandSocket,
  proxyInvocation,
} from '../../../src/connection/proxy-command.js';
import { ConfigError, NetworkError } from '../../../src/errors.js';
import { itPosix } from '../../helpers/posix-only.js';

function host(extra: Partial<HostConfig> = {}): HostConfig {
  return {
    ...plainHostConfig({ host: 'target.example', port: 2222, user: 'alice' }),
    originalHost: 'alias',
    ...extra,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(50);
  return !alive(pid);
}

const signal = new AbortController().signal;

describe('expandProxyCommand', () => {
  it('expands the tokens OpenSSH 9.2 allows in ProxyCommand', () => {
    expect(expandProxyCommand(host(), 'x %h %p %r %n %k %%')).toBe(
      'x target.example 2222 alice alias alias %',
    );
    expect(expandProxyCommand(host({ hostKeyAlias: 'kalias' }), '%k')).toBe('kalias');
  });

  it('refuses a token ssh refuses there (%d, %u, %C are not ProxyCommand tokens)', () => {
    for (const t of ['%d', '%u', '%C', '%l', '%z', 'tail%']) {
      expect(() => expandProxyCommand(host(), t)).toThrow(ConfigError);
    }
  });
});

describe('proxyInvocation', () => {
  it('runs `$SHELL -c "exec <command>"` on POSIX, /bin/sh when SHELL is unset or empty', () => {
    expect(proxyInvocation('nc h 22', 'linux', { SHELL: '/bin/bash' })).toEqual({
      file: '/bin/bash',
      args: ['-c', 'exec nc h 22'],
      options: {},
    });
    expect(proxyInvocation('nc h 22', 'linux', {}).file).toBe('/bin/sh');
    expect(proxyInvocation('nc h 22', 'darwin', { SHELL: '' }).file).toBe('/bin/sh');
  });

  it('hands Windows the command line itself, no shell, as Win32-OpenSSH does with CreateProcess', () => {
    const inv = proxyInvocation('ncat.exe --proxy p:1080 h 22', 'win32', { SHELL: '/bin/bash' });
    expect(inv).toEqual({
      file: 'ncat.exe',
      args: ['--proxy p:1080 h 22'],
      options: { argv0: '"ncat.exe"', windowsVerbatimArguments: true },
    });
    // libuv joins argv0 and the verbatim rest with one space: the child sees the line
    // build_commandline_string makes, `"…exe"` quoted.
    expect([inv.options.argv0, ...inv.args].join(' ')).toBe('"ncat.exe" --proxy p:1080 h 22');
  });

  it('keeps a quoted Windows program path whole', () => {
    const line = '"C:\\Program Files\\Nmap\\ncat.exe"  h 22';
    const inv = proxyInvocation(line, 'win32', {});
    expect(inv.file).toBe('C:\\Program Files\\Nmap\\ncat.exe');
    expect([inv.options.argv0, ...inv.args].join(' ')).toBe(line);
    expect(proxyInvocation('plink', 'win32', {}).args).toEqual([]);
  });
});

describe('proxyInvocation on win32: the program as Win32-OpenSSH finds it (misc.c build_commandline_string)', () => {
  const line = (inv: ReturnType<typeof proxyInvocation>) => [inv.options.argv0, ...inv.args].join(' ');
  const never = (file: string): boolean => {
    throw new Error(`asked about ${file}`);
  };

  it('runs an unquoted path with spaces up to the first space after .exe, quoting it', () => {
    const inv = proxyInvocation(
      'C:\\Program Files\\nodejs\\node.exe relay.mjs h 22',
      'win32',
      {},
      'C:\\',
      never,
    );
    expect(inv.file).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(line(inv)).toBe('"C:\\Program Files\\nodejs\\node.exe" relay.mjs h 22');
  });

  it('without .exe takes the shortest prefix that names a file, as CreateProcess reads a bare line', () => {
    const asked: string[] = [];
    const exists = (f: string) => {
      asked.push(f);
      return f === 'C:\\Program Files\\Nmap\\ncat.exe';
    };
    const cmd = 'C:\\Program Files\\Nmap\\ncat --proxy p:1080 h 22';
    const inv = proxyInvocation(cmd, 'win32', {}, 'D:\\work', exists);
    expect(inv.file).toBe('C:\\Program Files\\Nmap\\ncat');
    expect(line(inv)).toBe(cmd);
    // The whole line first (Win32-OpenSSH's quoted try), then C:\Program, then the match.
    expect(asked).toEqual([
      `${cmd}`,
      `${cmd}.exe`,
      'C:\\Program',
      'C:\\Program.exe',
      'C:\\Program Files\\Nmap\\ncat',
      'C:\\Program Files\\Nmap\\ncat.exe',
    ]);
  });

  it('resolves a relative program against the working directory and leaves a bare name to PATH', () => {
    const asked: string[] = [];
    const inv = proxyInvocation('tools\\nc h 22', 'win32', {}, 'D:\\work', (f) => {
      asked.push(f);
      return f === 'D:\\work\\tools\\nc.exe';
    });
    expect(inv.file).toBe('tools\\nc');
    expect(asked.at(-1)).toBe('D:\\work\\tools\\nc.exe');
    const bare = proxyInvocation('plink -nc h:22 jump', 'win32', {}, 'D:\\work', never);
    expect(bare.file).toBe('plink');
    expect(line(bare)).toBe('plink -nc h:22 jump');
  });

  it('takes a whole line that names a program, and the first word when nothing does', () => {
    const whole = proxyInvocation(
      'C:\\My Tools\\proxy',
      'win32',
      {},
      'C:\\',
      (f) => f === 'C:\\My Tools\\proxy.exe',
    );
    expect(whole.file).toBe('C:\\My Tools\\proxy');
    expect(whole.args).toEqual([]);
    const none = proxyInvocation('C:\\No Such\\nc h 22', 'win32', {}, 'C:\\', () => false);
    expect(none.file).toBe('C:\\No');
    expect(line(none)).toBe('C:\\No Such\\nc h 22');
    expect(() => proxyInvocation('""', 'win32', {})).toThrow(/no program to run/);
  });
});

describe('proxyCommandSocket', () => {
  // A node proxy runs alike on POSIX (through $SHELL) and on Windows (CreateProcess of the
  // line): double quotes and no `$` mean the same to sh and to CommandLineToArgvW.
  const node = `"${process.execPath}"`;

  it('carries bytes through a node proxy and ends it on destroy, on every platform', async () => {
    const s = await proxyCommandSocket(
      host({ proxyCommand: `${node} -e "process.stdin.pipe(process.stdout)"` }),
      signal,
      { env: { ...process.env, SHELL: '' } },
    );
    const pid = s.pid!;
    s.write('ping');
    const [chunk] = (await once(s, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('ping');
    expect(alive(pid)).toBe(true);
    s.destroy();
    expect(await gone(pid)).toBe(true);
  });

  it('hands the proxy the expanded tokens as its own argv, in our cwd and environment, on every platform', async () => {
    const cwd = os.tmpdir();
    const script = 'console.log(JSON.stringify([process.cwd(), process.env.MARK, ...process.argv.slice(1)]))';
    const s = await proxyCommandSocket(
      host({ proxyCommand: `${node} -e "${script}" %h:%p "two words" %r` }),
      signal,
      { env: { ...process.env, SHELL: '', MARK: 'm1' }, cwd, stderr: 'ignore' },
    );
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await once(s, 'end');
    expect(JSON.parse(out)).toEqual([cwd, 'm1', 'target.example:2222', 'two words', 'alice']);
    s.destroy();
  });

  itPosix('cat')("carries bytes through the command's stdin and stdout, and ends it on destroy", async () => {
    const s = await proxyCommandSocket(host({ proxyCommand: 'cat' }), signal, { env: {} });
    const pid = s.pid!;
    s.write('ping');
    const [chunk] = (await once(s, 'data')) as [Buffer];
    expect(chunk.toString()).toBe('ping');
    expect(alive(pid)).toBe(true);
    s.destroy();
    expect(await gone(pid)).toBe(true);
  });

  itPosix('sh')('runs in our working directory and environment, tokens expanded', async () => {
    const s = await proxyCommandSocket(host({ proxyCommand: 'sh -c \'echo "$PWD $MARK %h:%p"\'' }), signal, {
      env: { MARK: 'm1', PATH: process.env.PATH },
      cwd: '/tmp',
      stderr: 'ignore',
    });
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await once(s, 'end');
    expect(out).toBe('/tmp m1 target.example:2222\n');
    s.destroy();
  });

  itPosix('POSIX signals')('kills a proxy that ignores SIGHUP (SIGKILL after a grace period)', async () => {
    // exec'd by the shell, so it is the direct child (a grandchild is the command's own business, as with ssh).
    const ignoresHup = `${process.execPath} -e "process.on('SIGHUP', () => {}); setInterval(() => {}, 1000)"`;
    const s = await proxyCommandSocket(host({ proxyCommand: ignoresHup }), signal, { env: {} });
    const pid = s.pid!;
    await sleep(200);
    s.destroy();
    await sleep(300);
    expect(alive(pid)).toBe(true);
    expect(await gone(pid)).toBe(true);
  });

  itPosix('sh')('says which command exited and how, when it exits before the transport is used', async () => {
    const s = await proxyCommandSocket(host({ proxyCommand: "sh -c 'exit 3'" }), signal, { env: {} });
    s.resume();
    await once(s, 'end');
    const reason = s.closeReason('alice@target.example:2222');
    expect(reason).toBeInstanceOf(NetworkError);
    expect(reason?.kind).toBe('network');
    expect(reason?.message).toContain("`sh -c 'exit 3'` exited with status 3");
    s.destroy();
  });

  itPosix('a POSIX shell')('fails with a network error when the shell cannot run', async () => {
    const err = await proxyCommandSocket(host({ proxyCommand: 'true' }), signal, {
      env: { SHELL: '/nonexistent/shell' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as Error).message).toContain('/nonexistent/shell');
  });

  it('refuses `ProxyCommand -` and ProxyUseFdpass by name instead of ignoring them', async () => {
    await expect(proxyCommandSocket(host({ proxyCommand: '-' }), signal)).rejects.toThrow(/ProxyCommand -/);
    await expect(
      proxyCommandSocket(host({ proxyCommand: 'nc %h %p', proxyUseFdpass: true }), signal),
    ).rejects.toThrow(/ProxyUseFdpass/);
  });

  it("leaves the proxy's stderr on ours, except with ControlPath and ControlPersist (/dev/null), as ssh", async () => {
    const seen: unknown[] = [];
    const spawnSpy: NonNullable<Parameters<typeof proxyCommandSocket>[2]>['spawn'] = (
      file,
      args,
      options,
    ) => {
      seen.push((options.stdio as unknown[])[2]);
      return spawn(file, args, options);
    };
    for (const extra of [
      {},
      { controlPath: '/tmp/cp', controlPersistSeconds: 60 },
      { controlPath: '/tmp/cp' },
    ]) {
      const s = await proxyCommandSocket(host({ proxyCommand: `${node} -e ""`, ...extra }), signal, {
        env: {},
        spawn: spawnSpy,
      });
      s.destroy();
    }
    expect(seen).toEqual(['inherit', 'ignore', 'inherit']);
  });

  it('does not start the command when already aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(proxyCommandSocket(host({ proxyCommand: 'touch /tmp/never' }), ac.signal)).rejects.toThrow(
      'stop',
    );
  });
});
