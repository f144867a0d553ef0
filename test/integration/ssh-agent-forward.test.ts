import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { LiveRun } from './forward-helpers.js';

// -A / -a / ForwardAgent, run through /usr/bin/ssh (OpenSSH 9.2) and sshmux alike: the remote
// `ssh-add -l` shows which agent, if any, the session reached.
let sshd: StartedSshd;
let clients: AuthClients;
const agents: ChildProcess[] = [];
const MODES: Mode[] = ['direct', 'daemon'];
const NO_AGENT = 'Could not open a connection to your authentication agent.\n';
let main: { sock: string; fingerprint: string };
let other: { sock: string; fingerprint: string };

/** A test ssh-agent on `sock` holding one new key; its fingerprint as `ssh-add -l` prints it. */
async function startAgent(name: string): Promise<{ sock: string; fingerprint: string }> {
  const dir = clients.sandbox.runtimeDir;
  const sock = path.join(dir, `${name}.agent`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}-key`, '-f', key]);
  agents.push(spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' }));
  for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(20);
  execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  const fingerprint = execFileSync('ssh-add', ['-l'], {
    env: { ...process.env, SSH_AUTH_SOCK: sock },
  }).toString();
  return { sock, fingerprint };
}

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
  main = await startAgent('main');
  other = await startAgent('other');
});

afterAll(async () => {
  for (const a of agents) a.kill();
  await clients?.cleanup();
  await sshd?.stop();
});

describe.each(MODES)('agent forwarding as OpenSSH 9.2 (sshmux %s)', (mode) => {
  // The test config says IdentityAgent none, which (ssh.c) unsets SSH_AUTH_SOCK: undo that here.
  const both = async (args: string[], command: string, env: Record<string, string>, agentNone = false) => {
    const all = agentNone ? args : ['-o', 'IdentityAgent=SSH_AUTH_SOCK', ...args];
    const ssh = await clients.run('ssh', all, command, env);
    const ours = await clients.run(mode, all, command, env);
    return { ssh, ours };
  };

  it('-A: the remote ssh-add -l lists the key of our agent', async () => {
    const { ssh, ours } = await both(['-A'], 'ssh-add -l', { SSH_AUTH_SOCK: main.sock });
    expect(ssh).toMatchObject({ code: 0, stdout: main.fingerprint, stderr: '' });
    expect(ours).toMatchObject({ code: 0, stdout: main.fingerprint, stderr: '' });
  });

  it('without -A, and with -a overriding ForwardAgent yes: no agent on the remote side', async () => {
    for (const args of [[], ['-o', 'ForwardAgent=yes', '-a']]) {
      const { ssh, ours } = await both(args, 'ssh-add -l', { SSH_AUTH_SOCK: main.sock });
      expect(ssh, args.join(' ')).toMatchObject({ code: 2, stderr: NO_AGENT });
      expect(ours, args.join(' ')).toMatchObject({ code: 2, stderr: NO_AGENT, stdout: '' });
    }
  });

  it('ForwardAgent /path and ForwardAgent $VAR forward that agent instead of $SSH_AUTH_SOCK', async () => {
    const env = { SSH_AUTH_SOCK: main.sock, OTHER_AGENT: other.sock };
    for (const value of [other.sock, '$OTHER_AGENT']) {
      const { ssh, ours } = await both(['-o', `ForwardAgent=${value}`], 'ssh-add -l', env);
      expect(ssh, value).toMatchObject({ code: 0, stdout: other.fingerprint });
      expect(ours, value).toMatchObject({ code: 0, stdout: other.fingerprint });
    }
    // An unset $VAR turns forwarding off, as in ssh.c (which also stats "$UNSET_AGENT" as a path).
    const { ssh, ours } = await both(['-o', 'ForwardAgent=$UNSET_AGENT'], 'ssh-add -l', env);
    expect(ssh).toMatchObject({
      code: 2,
      stderr: `Cannot forward agent socket path "$UNSET_AGENT": No such file or directory\n${NO_AGENT}`,
    });
    expect(ours).toMatchObject({ code: 2, stderr: ssh.stderr });
  });

  it('-A without a reachable $SSH_AUTH_SOCK forwards nothing (check_agent_present)', async () => {
    const { ssh, ours } = await both(['-A'], 'ssh-add -l', {
      SSH_AUTH_SOCK: path.join(clients.sandbox.runtimeDir, 'none'),
    });
    expect(ssh).toMatchObject({ code: 2, stderr: NO_AGENT });
    expect(ours).toMatchObject({ code: 2, stderr: NO_AGENT });
  });

  it('-A with IdentityAgent none forwards nothing: ssh unsets SSH_AUTH_SOCK first', async () => {
    const { ssh, ours } = await both(['-A'], 'ssh-add -l', { SSH_AUTH_SOCK: main.sock }, true);
    expect(ssh).toMatchObject({ code: 2, stderr: NO_AGENT });
    expect(ours).toMatchObject({ code: 2, stderr: NO_AGENT });
  });

  it('-A with IdentityAgent naming another agent forwards that one', async () => {
    const { ssh, ours } = await both(
      ['-A', '-o', `IdentityAgent=${other.sock}`],
      'ssh-add -l',
      { SSH_AUTH_SOCK: main.sock },
      true,
    );
    expect(ssh).toMatchObject({ code: 0, stdout: other.fingerprint });
    expect(ours).toMatchObject({ code: 0, stdout: other.fingerprint });
  });
});

describe('agent forwarding through the shared daemon', () => {
  it("a session that did not ask never reaches another client's forwarded agent", async () => {
    const forwarding = new LiveRun(
      clients,
      'daemon',
      ['-A', '-o', 'IdentityAgent=SSH_AUTH_SOCK'],
      'ssh-add -l >/dev/null && echo has-agent; sleep 3',
      { SSH_AUTH_SOCK: main.sock },
    );
    await sleep(1500);
    const plain = await clients.run(
      'daemon',
      ['-o', 'IdentityAgent=SSH_AUTH_SOCK'],
      'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l',
      {
        SSH_AUTH_SOCK: other.sock,
      },
    );
    expect(plain).toMatchObject({ code: 2, stdout: 'sock=\n', stderr: NO_AGENT });
    expect(await forwarding.done).toBe(0);
    expect(forwarding.stdout).toBe('has-agent\n');
  });
});
