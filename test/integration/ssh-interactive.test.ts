import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TmuxTerminal } from '../helpers/tmux.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

// Interactive sessions driven through a real terminal (tmux): a login shell on a pty, window
// changes, a full-screen program, escape sequences, and the local terminal's modes afterwards,
// through the daemon and in-process, and where it matters side by side with /usr/bin/ssh.
let sshd: StartedSshd;
let clients: AuthClients;
const terminals: TmuxTerminal[] = [];
const MODES: Mode[] = ['direct', 'daemon'];
let runs = 0;

beforeAll(async () => {
  // DEBUG1: sshd logs each key exchange, which is how ~R is seen from the server.
  sshd = await startSshd({ sshdOptions: ['LogLevel=DEBUG1'] });
  clients = new AuthClients(sshd);
});

afterAll(async () => {
  for (const t of terminals) t.kill();
  await clients?.cleanup();
  await sshd?.stop();
});

const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

/** A terminal whose shell runs `client` with `args` against the container. */
function terminal(client: 'ssh' | Mode, size = { cols: 100, rows: 30 }): TmuxTerminal {
  const env = clients.sandbox.env({
    TERM: 'xterm-256color',
    ...(client === 'direct' && { SSHMUX_NO_DAEMON: '1' }),
  });
  delete env.TMUX;
  const t = new TmuxTerminal(env, size);
  terminals.push(t);
  return t;
}

function commandLine(client: 'ssh' | Mode, args: string[]): string {
  const argv =
    client === 'ssh'
      ? ['/usr/bin/ssh', '-F', clients.config, ...args]
      : [process.execPath, CLI, 'ssh', '-F', clients.config, ...args];
  return argv.map(q).join(' ');
}

/**
 * In the terminal's shell: save `stty -a`, then run the client as a command of its own (a
 * stopped job must not let a command list go on); once it ended, its exit status and `stty -a`.
 */
async function start(t: TmuxTerminal, client: 'ssh' | Mode, args: string[] = ['target']) {
  const n = ++runs;
  const dir = clients.sandbox.runtimeDir;
  const before = path.join(dir, `stty-before-${n}`);
  const after = path.join(dir, `stty-after-${n}`);
  t.type(`stty -a > ${before}; echo READY-${n}`);
  await t.waitFor(new RegExp(`^READY-${n}\nLOCAL\\$ $`, 'm'));
  t.type(commandLine(client, args));
  return {
    before,
    after,
    /** Waits for the client to end; returns its exit status. */
    finished: async (): Promise<number> => {
      await t.waitFor(/LOCAL\$ ?\s*$/);
      t.type(`echo EXIT=$?; stty -a > ${after}; echo DONE-${n}`);
      await t.waitFor(new RegExp(`^DONE-${n}$`, 'm'));
      return Number(t.screen().match(/EXIT=(\d+)$/m)?.[1]);
    },
    sameModes: () => expect(readFileSync(after, 'utf8')).toBe(readFileSync(before, 'utf8')),
  };
}

/** Wait for the remote login shell, then give it a prompt that is easy to find. */
async function remotePrompt(t: TmuxTerminal): Promise<void> {
  await t.waitFor(/backup@[^\n]*\$ $/m);
  t.type("PS1='R''> '");
  await t.waitFor(/^R> $/m);
}

/** Run `command` in the remote shell and return its one line of output. */
async function remote(t: TmuxTerminal, command: string, marker: string): Promise<string> {
  t.clear();
  t.type(`${command}; echo ${marker}-end`);
  const m = await t.waitFor(new RegExp(`\\n(.*)\\n${marker}-end\\n`, 'm'));
  return m[1]!;
}

describe.each(MODES)('an interactive session (sshmux %s)', (mode) => {
  it('opens a login shell on a pty with $TERM and the size, follows resizes, runs top, ends with ~. (255)', async () => {
    const t = terminal(mode);
    const run = await start(t, mode);
    await remotePrompt(t);
    expect(await remote(t, 'tty', 'a')).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await remote(t, 'echo $TERM', 'b')).toBe('xterm-256color');
    expect(await remote(t, 'stty size', 'c')).toBe('30 100');
    t.resize(120, 40);
    // The remote pty follows the local window: wait until the shell sees the new size.
    await expect.poll(() => remote(t, 'stty size', 'd'), { timeout: 20_000 }).toBe('40 120');
    t.type('top -d 0.2');
    await t.waitFor(/load average/);
    t.type('q', false);
    await t.waitFor(/^R> $/m);
    t.resize(100, 30);
    await expect.poll(() => remote(t, 'stty size', 'g'), { timeout: 20_000 }).toBe('30 100');
    t.type('');
    t.type('~.', false);
    expect(await run.finished()).toBe(255);
    expect(t.screen()).toContain('Connection to 127.0.0.1 closed.');
    run.sameModes();
  });

  it('-e none: no escapes, ~. goes to the remote shell', async () => {
    const t = terminal(mode);
    const run = await start(t, mode, ['-e', 'none', 'target']);
    await remotePrompt(t);
    expect(await remote(t, 'true\n~.', 'n')).toBe('-bash: ~.: command not found');
    t.type('exit');
    expect(await run.finished()).toBe(0);
    run.sameModes();
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const)(
    'restores the terminal when killed with %s (255, as ssh)',
    async (signal) => {
      const t = terminal(mode);
      const run = await start(t, mode);
      await remotePrompt(t);
      const [pid] = t.shellChildren();
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, signal);
      const status = await run.finished();
      expect(status, t.screen()).toBe(255);
      run.sameModes();
    },
  );

  it('~^Z suspends with the terminal restored; fg resumes the session', async () => {
    const t = terminal(mode);
    const run = await start(t, mode);
    await remotePrompt(t);
    t.type('');
    t.type('~', false);
    t.keys('C-z');
    await t.waitFor(/\[suspend ssh\][\s\S]*Stopped[\s\S]*\nLOCAL\$ \s*$/);
    const mid = path.join(clients.sandbox.runtimeDir, `stty-mid-${runs}`);
    t.type(`stty -a > ${mid}; echo SAVED`);
    await t.waitFor(/^SAVED$/m);
    expect(readFileSync(mid, 'utf8')).toBe(readFileSync(run.before, 'utf8'));
    t.type('fg');
    t.type('');
    expect(await remote(t, 'echo resumed', 'e')).toBe('resumed');
    t.type('exit');
    expect(await run.finished()).toBe(0);
    run.sameModes();
  });

  it('-e sets another escape character; ~ is then sent through', async () => {
    const t = terminal(mode);
    const run = await start(t, mode, ['-e', '^]', 'target']);
    await remotePrompt(t);
    // At a line start, ~. is no escape now: the remote shell gets it as a command.
    expect(await remote(t, 'echo x\n~.', 'f')).toBe('-bash: ~.: command not found');
    t.type('');
    t.keys('C-]');
    t.type('.', false);
    expect(await run.finished()).toBe(255);
    run.sameModes();
  });
  it('a lost connection: the terminal restored, ssh\'s "closed by remote host", 255', async () => {
    const loses = async (client: 'ssh' | Mode) => {
      const t = terminal(client);
      const run = await start(t, client);
      await remotePrompt(t);
      // The server side of the session dies: sshd's per-session process runs as the user.
      await sshd.exec(['pkill', '-KILL', '-u', 'backup']);
      const status = await run.finished();
      run.sameModes();
      const screen = t.screen();
      return {
        status,
        said: screen.slice(screen.indexOf('R> ') + 3, screen.lastIndexOf('LOCAL$ echo EXIT')),
      };
    };
    const ssh = await loses('ssh');
    expect(ssh).toEqual({
      status: 255,
      said: 'Connection to 127.0.0.1 closed by remote host.\nConnection to 127.0.0.1 closed.\n',
    });
    expect(await loses(mode)).toEqual(ssh);
  });
  it('answers the host-key question on the terminal, then the shell gets what is typed after', async () => {
    const t = terminal(mode);
    const empty = path.join(clients.sandbox.runtimeDir, `known_hosts-${mode}`);
    writeFileSync(empty, '');
    const run = await start(t, mode, [
      '-o',
      `UserKnownHostsFile=${empty}`,
      '-o',
      'StrictHostKeyChecking=ask',
      'target',
    ]);
    await t.waitFor(/Are you sure you want to continue connecting \(yes\/no\/\[fingerprint\]\)\? $/m);
    t.type('yes');
    await remotePrompt(t);
    expect(await remote(t, 'echo typed-after', 'y')).toBe('typed-after');
    t.type('exit');
    expect(await run.finished()).toBe(0);
    run.sameModes();
  });
});

describe.each(MODES)('the login shell without a local terminal, as ssh 9.2 (sshmux %s)', (mode) => {
  const input = 'echo shell-ran; tty; exit 3\n';
  it.each([
    ['no flag', [] as string[]],
    ['-T', ['-T']],
    ['-t', ['-t']],
    ['RequestTTY no', ['-o', 'RequestTTY=no']],
    ['RequestTTY yes', ['-o', 'RequestTTY=yes']],
  ])('%s: the same output, notice and status', async (_name, args) => {
    const ssh = await clients.run('ssh', args, undefined, {}, { input });
    const ours = await clients.run(mode, args, undefined, {}, { input });
    expect(ssh).toMatchObject({ code: 3, stdout: 'shell-ran\nnot a tty\n' });
    expect(ours).toMatchObject({ code: ssh.code, stdout: ssh.stdout, stderr: ssh.stderr });
  });

  it('-tt: a pty although stdin is piped, as ssh', async () => {
    const ssh = await clients.run('ssh', ['-tt'], undefined, {}, { input });
    const ours = await clients.run(mode, ['-tt'], undefined, {}, { input });
    expect(ssh.code).toBe(3);
    expect(ssh.stdout).toMatch(/^\/dev\/pts\/\d+\r$/m);
    expect(ours.code).toBe(3);
    expect(ours.stdout).toMatch(/^\/dev\/pts\/\d+\r$/m);
    expect(ours.stderr).toBe(ssh.stderr);
  });
});

describe('escape sequences side by side with /usr/bin/ssh', () => {
  /** Run `client` in a terminal, type `keys` at a line start, end with ~.; the screen and status. */
  async function escapeSession(client: 'ssh' | Mode, typed: string) {
    const t = terminal(client);
    const run = await start(t, client);
    await remotePrompt(t);
    t.clear();
    t.type('');
    // The fresh prompt first, so that it cannot land in the middle of what the escape prints.
    await t.waitFor(/^R> $/m);
    t.type(typed, false);
    await t.waitFor(/escapes are only recognized immediately after newline/);
    t.type('~.', false);
    const status = await run.finished();
    run.sameModes();
    const screen = t.screen();
    const help = screen.slice(screen.indexOf('~?'), screen.indexOf('newline.)') + 'newline.)'.length);
    // What the session printed after the help, up to the local prompt: ~.'s lines.
    const end = screen.slice(
      screen.indexOf('newline.)') + 'newline.)'.length,
      screen.lastIndexOf('LOCAL$ echo EXIT'),
    );
    return { status, help, end };
  }

  it('~? prints ssh\'s help, ~. ends with "Connection to … closed." and 255 (in-process)', async () => {
    const ssh = await escapeSession('ssh', '~?');
    expect(ssh).toMatchObject({
      status: 255,
      end: expect.stringContaining('Connection to 127.0.0.1 closed.'),
    });
    expect(ssh.help).toContain('Supported escape sequences:');
    expect(await escapeSession('direct', '~?')).toEqual(ssh);
  });

  it('through the daemon, ~? says that ~. ends this session only, as ssh as a mux client', async () => {
    const ssh = await escapeSession('ssh', '~?');
    const ours = await escapeSession('daemon', '~?');
    expect(ours).toMatchObject({ status: 255, end: ssh.end });
    expect(ours.help).toBe(
      ssh.help.replace(
        ' ~.   - terminate connection (and any multiplexed sessions)',
        ' ~.   - terminate session',
      ),
    );
  });

  it('~~ sends one ~ and an unknown sequence goes through whole, as ssh', async () => {
    const typedBy = async (client: 'ssh' | Mode) => {
      const t = terminal(client);
      const run = await start(t, client);
      await remotePrompt(t);
      t.type('cat > typed');
      // Typed ahead, the lines would reach readline's mode, not cat's cooked one.
      await expect.poll(() => sshd.processes('^cat$'), { timeout: 20_000 }).toHaveLength(1);
      // Each at a line start: `~~a` arrives as `~a`, `~q` as `~q`.
      t.type('~~a');
      t.type('~q');
      t.keys('C-d');
      await t.waitFor(/^R> $/m);
      const seen = await remote(t, "tr '\\n' '|' < typed; echo", 'h');
      t.type('');
      t.type('~.', false);
      expect(await run.finished()).toBe(255);
      return seen;
    };
    const ssh = await typedBy('ssh');
    expect(ssh).toBe('~a|~q|');
    expect(await typedBy('direct')).toBe(ssh);
    expect(await typedBy('daemon')).toBe(ssh);
  });

  it('~R makes the server see a new key exchange, as with ssh', async () => {
    const kexCount = async () => (await sshd.sshdLog()).split('SSH2_MSG_KEXINIT received').length - 1;
    const rekeysBy = async (client: 'ssh' | Mode) => {
      const t = terminal(client);
      const run = await start(t, client);
      await remotePrompt(t);
      const before = await kexCount();
      t.type('');
      t.type('~R', false);
      await expect.poll(kexCount, { timeout: 20_000 }).toBe(before + 1);
      // The session goes on over the new keys.
      expect(await remote(t, 'echo after-rekey', 'k')).toBe('after-rekey');
      t.type('exit');
      expect(await run.finished()).toBe(0);
    };
    await rekeysBy('ssh');
    await rekeysBy('direct');
    await rekeysBy('daemon');
  });

  it('~B sends the server a BREAK request, as ssh', async () => {
    const breakCount = async () => (await sshd.sshdLog()).split(' req break').length - 1;
    const breaksBy = async (client: 'ssh' | Mode) => {
      const t = terminal(client);
      const run = await start(t, client);
      await remotePrompt(t);
      const before = await breakCount();
      t.type('');
      t.type('~B', false);
      await expect.poll(breakCount, { timeout: 20_000 }).toBe(before + 1);
      expect(await remote(t, 'echo after-break', 'b')).toBe('after-break');
      t.type('exit');
      expect(await run.finished()).toBe(0);
    };
    await breaksBy('ssh');
    await breaksBy('direct');
    await breaksBy('daemon');
  });

  it('~& gives the shell back at once (0) with the terminal restored, as ssh', async () => {
    const backgrounds = async (client: 'ssh' | Mode) => {
      const t = terminal(client);
      const run = await start(t, client);
      await remotePrompt(t);
      t.type('');
      t.type('~&', false);
      await t.waitFor(/~& \[backgrounded\]/);
      // ssh's background child sends ^D, and reports the end of the session later.
      // The parent has exited by then, so the local prompt may come before the child's last line.
      if (client === 'ssh') await t.waitFor(/logout\n(?:LOCAL\$ )?Connection to 127\.0\.0\.1 closed\./);
      t.type('');
      const status = await run.finished();
      run.sameModes();
      return { status, said: /~& \[backgrounded\]/.test(t.screen()) };
    };
    const ssh = await backgrounds('ssh');
    expect(ssh).toEqual({ status: 0, said: true });
    expect(await backgrounds('direct')).toEqual(ssh);
    expect(await backgrounds('daemon')).toEqual(ssh);
  });

  it('what the server sees: a pty, TERM and the size for the shell; -t/-T/none with a command', async () => {
    const sees = async (client: 'ssh' | Mode) => {
      const t = terminal(client, { cols: 91, rows: 27 });
      const run = await start(t, client);
      await remotePrompt(t);
      const shell = [
        (await remote(t, 'tty', 'p')).replace(/\d+$/, 'N'),
        await remote(t, 'echo $TERM', 't'),
        await remote(t, 'stty size', 's'),
      ];
      t.type('exit');
      expect(await run.finished()).toBe(0);
      const withCommand: string[] = [];
      for (const flags of [[], ['-t'], ['-T'], ['-tt']]) {
        t.clear();
        const r = await start(t, client, [...flags, 'target', 'tty; echo END']);
        await t.waitFor(/^END\r?$/m);
        withCommand.push(`${flags.join('')}:${t.screen().match(/^(\/dev\/pts\/|not a tty)/m)?.[1]}`);
        await r.finished();
      }
      return { shell, withCommand };
    };
    const ssh = await sees('ssh');
    expect(ssh).toEqual({
      shell: ['/dev/pts/N', 'xterm-256color', '27 91'],
      withCommand: [':not a tty', '-t:/dev/pts/', '-T:not a tty', '-tt:/dev/pts/'],
    });
    expect(await sees('direct')).toEqual(ssh);
    expect(await sees('daemon')).toEqual(ssh);
  });
});

describe('the terminal is restored when the process crashes or exits', () => {
  const module = path.join(path.dirname(CLI), '..', 'session', 'raw-terminal.js');
  it.each([
    ['an uncaught exception', "throw new Error('boom')", 1],
    ['an unhandled rejection', "Promise.reject(new Error('boom'))", 1],
    ['process.exit', 'process.exit(3)', 3],
  ])('%s', async (_name, ending, code) => {
    const script = [
      `import { RawTerminal } from ${JSON.stringify(module)};`,
      "const input = { isTTY: true, setRawMode: (m) => process.stdout.write('raw ' + m + '\\n') };",
      'new RawTerminal(input).enter();',
      ending,
    ].join('\n');
    const r = await runProgram(process.execPath, ['--input-type=module', '-e', script]);
    expect(r.code).toBe(code);
    expect(r.stdout.toString()).toBe('raw true\nraw false\n');
  });
});
