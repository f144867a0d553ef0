import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import {
  startWineNode,
  WineSandbox,
  type WineSetup,
  wineSetup,
  winPath,
  winPathBackslash,
} from '../helpers/wine.js';

// `sshmux ssh` run by Windows node.exe under Wine against the container sshd: authenticating
// with an agent on a named pipe (IdentityAgent \\.\pipe\…) in process and through the daemon,
// forwarding that agent (-A), Match exec through cmd.exe, and a ProxyCommand that is itself a
// node.exe program (started as Win32-OpenSSH starts one).
const HERE = path.join(ROOT, 'test', 'windows');

let setup: WineSetup;
let sshd: StartedSshd;
const boxes: WineSandbox[] = [];
function sandbox(): WineSandbox {
  const box = new WineSandbox(setup, sshd);
  boxes.push(box);
  return box;
}
beforeAll(async () => {
  setup = wineSetup();
  sshd = await startSshd();
});
afterEach(async () => {
  for (const box of boxes.splice(0)) await box.cleanup();
});
afterAll(async () => {
  await sshd?.stop();
});

/** An ssh_config for `target` (user backup) in the sandbox, with `lines` added to its Host block. */
function config(box: WineSandbox, name: string, lines: string[]): string {
  const file = path.join(box.root, name);
  writeFileSync(
    file,
    [
      'Host target',
      `  HostName ${sshd.host}`,
      `  Port ${sshd.port}`,
      '  User backup',
      `  UserKnownHostsFile ${winPath(sshd.knownHostsFile)}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      ...lines.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  return winPath(file);
}

/** The test agent (agent-pipe-server.mjs) under Wine on `pipe`, serving the container's key. */
async function startAgent(box: WineSandbox, pipe: string) {
  const dir = mkdtempSync(path.join(box.root, 'agent-'));
  const agent = startWineNode(
    setup,
    [winPath(path.join(HERE, 'agent-pipe-server.mjs')), pipe, winPath(sshd.keyPath), winPath(dir)],
    { env: process.env, timeoutMs: 300_000 },
  );
  for (let i = 0; i < 300 && !existsSync(path.join(dir, 'ready')); i++) await sleep(100);
  expect(existsSync(path.join(dir, 'ready')), 'the agent under Wine is listening').toBe(true);
  return {
    /** The request types it answered, in order (11 list, 13 sign). */
    requests: () =>
      existsSync(path.join(dir, 'requests'))
        ? readFileSync(path.join(dir, 'requests'), 'utf8').split('\n').filter(Boolean)
        : [],
    async stop() {
      writeFileSync(path.join(dir, 'stop'), '');
      await agent.done;
    },
  };
}

const uniquePipe = (what: string) => `\\\\.\\pipe\\sshmux-tier-${what}-${randomBytes(4).toString('hex')}`;
// ssh_config reads backslash escapes (argv_split), as OpenSSH does: `\\` for each `\`.
const configPipe = (pipe: string) => pipe.replaceAll('\\', '\\\\');
const NO_DAEMON = { SSHMUX_NO_DAEMON: '1' };

describe('sshmux ssh under Windows node.exe: agents on named pipes', () => {
  it('authenticates in process with the agent on IdentityAgent \\\\.\\pipe\\…, the only key it has', async () => {
    const box = sandbox();
    const pipe = uniquePipe('agent');
    const agent = await startAgent(box, pipe);
    try {
      // No IdentityFile: the sandbox profile has no default key files, so only the agent can sign.
      const cfg = config(box, 'agent.conf', [`IdentityAgent ${configPipe(pipe)}`]);
      const r = await box.ssh(['-F', cfg, 'target', 'echo', 'via', '$USER'], { env: NO_DAEMON });
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe('via backup\n');
      expect(r.code).toBe(0);
      // Listed, then asked to sign: the login used the agent's key.
      expect(agent.requests()).toEqual(['11', '13']);
      expect(box.daemonPids()).toEqual([]);
    } finally {
      await agent.stop();
    }
  });

  it('authenticates through the daemon with that agent: two invocations, one login, one signature', async () => {
    const box = sandbox();
    const pipe = uniquePipe('daemon-agent');
    const agent = await startAgent(box, pipe);
    try {
      const cfg = config(box, 'daemon-agent.conf', [`IdentityAgent ${configPipe(pipe)}`]);
      const before = await sshd.countLogins('backup');
      const a = await box.ssh(['-F', cfg, 'target', 'echo', 'one', '$USER']);
      expect(a.stderr).toBe('');
      expect(a.stdout.toString()).toBe('one backup\n');
      expect(a.code).toBe(0);
      const b = await box.ssh(['-F', cfg, 'target', 'echo', 'two']);
      expect(b.stderr).toBe('');
      expect(b.stdout.toString()).toBe('two\n');
      expect(b.code).toBe(0);
      expect(await sshd.countLogins('backup')).toBe(before + 1);
      expect(box.daemonPids()).toHaveLength(1);
      // The daemon asked the agent once; the second invocation reused the connection.
      expect(agent.requests()).toEqual(['11', '13']);
    } finally {
      await agent.stop();
    }
  });

  it('forwards that agent with -A through the daemon: ssh-add -l on the server lists its key', async () => {
    const box = sandbox();
    const pipe = uniquePipe('forward-agent');
    const agent = await startAgent(box, pipe);
    try {
      const cfg = config(box, 'forward-agent.conf', [`IdentityAgent ${configPipe(pipe)}`]);
      const r = await box.ssh(['-A', '-F', cfg, 'target', 'ssh-add', '-l']);
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toMatch(/^256 SHA256:\S+ tier-agent-key \(ED25519\)\n$/);
      expect(r.code).toBe(0);
      expect(box.daemonPids()).toHaveLength(1);
      // Login (list, sign), then the server's ssh-add listing through the forwarded channel.
      expect(agent.requests()).toEqual(['11', '13', '11']);
    } finally {
      await agent.stop();
    }
  });

  it("with nothing set finds the agent at Win32-OpenSSH's \\\\.\\pipe\\openssh-ssh-agent", async () => {
    const box = sandbox();
    const agent = await startAgent(box, '\\\\.\\pipe\\openssh-ssh-agent');
    try {
      // The sandbox's SSH_AUTH_SOCK is empty: no agent named, so the Windows default.
      const r = await box.ssh(
        ['-F', config(box, 'default-agent.conf', []), 'target', 'echo', 'via', '$USER'],
        {
          env: NO_DAEMON,
        },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe('via backup\n');
      expect(r.code).toBe(0);
      expect(agent.requests()).toEqual(['11', '13']);
    } finally {
      await agent.stop();
    }
  });

  it('fails as ssh does (Permission denied) when the agent pipe is not there, offering nothing else', async () => {
    const box = sandbox();
    const cfg = config(box, 'no-agent.conf', [`IdentityAgent ${configPipe(uniquePipe('no-agent'))}`]);
    const r = await box.ssh(['-F', cfg, 'target', 'true'], { env: NO_DAEMON });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toMatch(/Permission denied \(publickey/);
  });
});

describe('sshmux ssh under Windows node.exe: Match exec and ProxyCommand', () => {
  it('evaluates Match exec through cmd.exe, as Win32-OpenSSH does (sshmux ssh -G)', async () => {
    const box = sandbox();
    const file = path.join(box.root, 'match-exec.conf');
    writeFileSync(
      file,
      [
        'Host target',
        `  HostName ${sshd.host}`,
        'Match exec "if %h==127.0.0.1 (exit 0) else (exit 1)"',
        '  User matched',
        'Match exec "if %h==other.example (exit 0) else (exit 1)"',
        '  Port 2999',
        '',
      ].join('\n'),
    );
    const r = await box.ssh(['-G', '-F', winPath(file), 'target']);
    // ssh -G's own notice for a file stdin (\r\n, as OpenSSH writes it), nothing about the Match lines.
    expect(r.stderr).toBe('Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('\nuser matched\n');
    expect(r.stdout.toString()).toContain('\nport 22\n');
  });

  it('connects through a ProxyCommand that is a node.exe program relaying to the port', async () => {
    const box = sandbox();
    const relay = winPath(path.join(HERE, 'tcp-relay.mjs'));
    const cfg = config(box, 'proxy.conf', [
      `IdentityFile ${winPath(sshd.keyPath)}`,
      'IdentitiesOnly yes',
      // %h and %p expanded by sshmux, the line started without a shell.
      `ProxyCommand "${winPath(setup.nodeExe)}" ${relay} %h %p`,
    ]);
    const r = await box.ssh(['-F', cfg, 'target', 'echo', 'via', '$USER'], { env: NO_DAEMON });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('via backup\n');
    expect(r.code).toBe(0);
  });

  // Win32-OpenSSH's rule for an unquoted program path with spaces (misc.c
  // build_commandline_string): the program is the line up to the first space after `.exe`,
  // handed to CreateProcess quoted. node.exe is linked into such a path. (Without `.exe` the
  // bare line goes to CreateProcess, whose program then parses its arguments from the
  // unquoted path too: unit-tested only, and docs/git-and-windows.md says to quote it.)
  it('runs an unquoted ProxyCommand path with spaces up to the space after .exe', async () => {
    const box = sandbox();
    const dir = path.join(box.root, 'Program Files', 'node js');
    mkdirSync(dir, { recursive: true });
    symlinkSync(setup.nodeExe, path.join(dir, 'node.exe'));
    const relay = winPath(path.join(HERE, 'tcp-relay.mjs'));
    const cfg = config(box, 'proxy-spaces.conf', [
      `IdentityFile ${winPath(sshd.keyPath)}`,
      'IdentitiesOnly yes',
      `ProxyCommand ${winPathBackslash(path.join(dir, 'node.exe')).replaceAll('\\', '\\\\')} ${relay} %h %p`,
    ]);
    const r = await box.ssh(['-F', cfg, 'target', 'echo', 'via', '$USER'], { env: NO_DAEMON });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('via backup\n');
    expect(r.code).toBe(0);
  });
});
