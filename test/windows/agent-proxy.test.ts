import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { startWineNode, wine, winPath } from './wine-node.js';

// `sshmux ssh` run by Windows node.exe under Wine against the container sshd: authenticating
// with an agent on a named pipe (IdentityAgent \\.\pipe\…), and connecting through a
// ProxyCommand that is itself a node.exe program (started as Win32-OpenSSH starts one). Both in
// process (SSHMUX_NO_DAEMON=1): a ProxyCommand always connects in-process, and the daemon path
// under Wine belongs to the tier's daemon tests.
const CLI = winPath(path.join(ROOT, 'dist', 'cli', 'main.js'));
const HERE = path.join(ROOT, 'test', 'windows');

let sshd: StartedSshd;
let dir: string;
beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(path.join(sshd.tmpDir, 'win-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await sshd?.stop();
});

function config(name: string, lines: string[]): string {
  const file = path.join(dir, name);
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

async function sshmux(cfg: string, env: NodeJS.ProcessEnv = {}) {
  return startWineNode([CLI, 'ssh', '-F', cfg, 'target', 'echo', 'via', '$USER'], {
    SSHMUX_NO_DAEMON: '1',
    ...env,
  }).done;
}

describe('sshmux ssh under Windows node.exe', () => {
  it('authenticates with the agent on IdentityAgent \\\\.\\pipe\\…, the only key it has', async () => {
    const pipe = `\\\\.\\pipe\\sshmux-tier-agent-${randomBytes(4).toString('hex')}`;
    const agentDir = mkdtempSync(path.join(dir, 'agent-'));
    const agent = startWineNode([
      winPath(path.join(HERE, 'agent-pipe-server.mjs')),
      pipe,
      winPath(sshd.keyPath),
      winPath(agentDir),
    ]);
    try {
      for (let i = 0; i < 300 && !existsSync(path.join(agentDir, 'ready')); i++) await sleep(100);
      expect(existsSync(path.join(agentDir, 'ready')), 'the agent under Wine is listening').toBe(true);
      // No IdentityFile: the default files do not exist in the Wine profile, so only the agent can sign.
      // ssh_config reads backslash escapes (argv_split), as OpenSSH does: `\\` for each `\`.
      const r = await sshmux(config('agent.conf', [`IdentityAgent ${pipe.replaceAll('\\', '\\\\')}`]));
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('via backup\n');
      expect(r.code).toBe(0);
      // Listed, then asked to sign: the login used the agent's key.
      expect(readFileSync(path.join(agentDir, 'requests'), 'utf8').split('\n')).toEqual(['11', '13', '']);
    } finally {
      writeFileSync(path.join(agentDir, 'stop'), '');
      await agent.done;
    }
  });

  it("with nothing set finds the agent at Win32-OpenSSH's \\\\.\\pipe\\openssh-ssh-agent", async () => {
    const agentDir = mkdtempSync(path.join(dir, 'default-agent-'));
    const agent = startWineNode([
      winPath(path.join(HERE, 'agent-pipe-server.mjs')),
      '\\\\.\\pipe\\openssh-ssh-agent',
      winPath(sshd.keyPath),
      winPath(agentDir),
    ]);
    try {
      for (let i = 0; i < 300 && !existsSync(path.join(agentDir, 'ready')); i++) await sleep(100);
      expect(existsSync(path.join(agentDir, 'ready')), 'the agent under Wine is listening').toBe(true);
      // Wine passes the Linux environment through: an empty SSH_AUTH_SOCK is no agent named.
      const r = await sshmux(config('default-agent.conf', []), { SSH_AUTH_SOCK: '' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('via backup\n');
      expect(r.code).toBe(0);
      expect(readFileSync(path.join(agentDir, 'requests'), 'utf8').split('\n')).toEqual(['11', '13', '']);
    } finally {
      writeFileSync(path.join(agentDir, 'stop'), '');
      await agent.done;
    }
  });

  it('fails as ssh does (Permission denied) when the agent pipe is not there, offering nothing else', async () => {
    const pipe = `\\\\.\\pipe\\sshmux-tier-no-agent-${randomBytes(4).toString('hex')}`;
    const r = await sshmux(config('no-agent.conf', [`IdentityAgent ${pipe.replaceAll('\\', '\\\\')}`]));
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied \(publickey/);
  });

  it('evaluates Match exec through cmd.exe, as Win32-OpenSSH does (sshmux ssh -G)', async () => {
    const file = path.join(dir, 'match-exec.conf');
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
    const r = await startWineNode([CLI, 'ssh', '-G', '-F', winPath(file), 'target']).done;
    // ssh -G's own notice for a file stdin, and nothing about the Match lines.
    expect(r.stderr).toBe('Pseudo-terminal will not be allocated because stdin is not a terminal.\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nuser matched\n');
    expect(r.stdout).toContain('\nport 22\n');
  });

  it('connects through a ProxyCommand that is a node.exe program relaying to the port', async () => {
    const relay = winPath(path.join(HERE, 'tcp-relay.mjs'));
    const r = await sshmux(
      config('proxy.conf', [
        `IdentityFile ${winPath(sshd.keyPath)}`,
        'IdentitiesOnly yes',
        // %h and %p expanded by sshmux, the line started without a shell.
        `ProxyCommand "${winPath(wine.nodeExe)}" ${relay} %h %p`,
      ]),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('via backup\n');
    expect(r.code).toBe(0);
  });
});
