import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';

// Keyboard-interactive needs PAM in sshd 9.2 on Debian (without it there are no devices), and a
// second factor needs AuthenticationMethods: both compared against /usr/bin/ssh, as in auth-methods.
let sshd: StartedSshd;
let clients: AuthClients;
let agent: ChildProcess | undefined;
let agentSock: string;
const MODES: Mode[] = ['direct', 'daemon'];

beforeAll(async () => {
  sshd = await startSshd({ sshdOptions: ['KbdInteractiveAuthentication=yes', 'UsePAM=yes'] });
  await sshd.sh(
    [
      'echo backup:kbd-pw | chpasswd',
      // A container has no audit login uid to set: let PAM sessions open anyway.
      "sed -i 's/^session\\s*required\\s*pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd",
      'useradd -m -s /bin/bash twofa',
      'echo twofa:second-pw | chpasswd',
      'mkdir -p /home/twofa/.ssh',
      'cp /etc/ssh/authorized_keys/backup /home/twofa/.ssh/authorized_keys',
      'chown -R twofa:twofa /home/twofa/.ssh',
      'chmod 700 /home/twofa/.ssh',
      "printf 'Match User twofa\\n  PasswordAuthentication yes\\n  AuthenticationMethods publickey,password\\n' > /etc/ssh/sshd_config.d/zz-twofa.conf",
    ].join(' && '),
  );
  await sshd.restartSshd();
  clients = new AuthClients(sshd);
  agentSock = path.join(clients.sandbox.runtimeDir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !existsSync(agentSock); i++) await sleep(100);
  execFileSync('ssh-add', ['-q', sshd.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
});

afterAll(async () => {
  if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
  await clients?.cleanup();
  await sshd?.stop();
});

async function logDuring<T>(work: () => Promise<T>): Promise<{ result: T; log: string }> {
  const before = (await sshd.sshdLog()).length;
  const result = await work();
  return { result, log: (await sshd.sshdLog()).slice(before) };
}

describe.each(MODES)('keyboard-interactive and partial success as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it("answers the server's keyboard-interactive questions, prompted as ssh prompts them", async () => {
    const args = ['-o', 'PreferredAuthentications=keyboard-interactive'];
    const env = { ASKPASS_ANSWER: 'kbd-pw' };
    const ssh = await logDuring(() => clients.run('ssh', args, 'echo in', env));
    const ours = await logDuring(() => clients.run(mode, args, 'echo in', env));
    expect(ssh.result).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.result).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.result.prompts).toEqual(ssh.result.prompts);
    expect(ours.result.prompts).toEqual(['(backup@127.0.0.1) Password: ']);
    for (const { log } of [ssh, ours]) expect(log).toContain('Accepted keyboard-interactive/pam for backup');
  });

  it('wrong answers: as many rounds as ssh (NumberOfPasswordPrompts), then 255', async () => {
    const args = ['-o', 'PreferredAuthentications=keyboard-interactive', '-o', 'NumberOfPasswordPrompts=2'];
    const env = { ASKPASS_ANSWER: 'nope' };
    const ssh = await clients.run('ssh', args, 'echo in', env);
    const ours = await clients.run(mode, args, 'echo in', env);
    expect(ssh.code).toBe(255);
    expect(ours.code).toBe(255);
    expect(ours.prompts).toEqual(ssh.prompts);
    expect(ours.prompts.length).toBeGreaterThan(0);
    const denied = 'backup@127.0.0.1: Permission denied (publickey,keyboard-interactive).';
    for (const r of [ssh, ours]) expect(r.stderr).toContain(denied);
  });

  it('KbdInteractiveAuthentication=no: never asked, denied as ssh', async () => {
    const args = [
      '-o',
      'PreferredAuthentications=keyboard-interactive',
      '-o',
      'KbdInteractiveAuthentication=no',
    ];
    const ssh = await clients.run('ssh', args, 'echo in', { ASKPASS_ANSWER: 'kbd-pw' });
    const ours = await clients.run(mode, args, 'echo in', { ASKPASS_ANSWER: 'kbd-pw' });
    expect(ssh).toMatchObject({ code: 255, prompts: [] });
    expect(ours).toMatchObject({ code: 255, prompts: [] });
  });

  it('AuthenticationMethods publickey,password: the key, then the password the server still wants', async () => {
    const args = ['-l', 'twofa'];
    const env = { ASKPASS_ANSWER: 'second-pw' };
    const ssh = await logDuring(() => clients.run('ssh', args, 'id -un', env));
    const ours = await logDuring(() => clients.run(mode, args, 'id -un', env));
    expect(ssh.result).toMatchObject({ code: 0, stdout: 'twofa\n' });
    expect(ours.result).toMatchObject({ code: 0, stdout: 'twofa\n' });
    expect(ours.result.prompts).toEqual(ssh.result.prompts);
    expect(ours.result.prompts).toEqual(["twofa@127.0.0.1's password: "]);
    for (const { log } of [ssh, ours]) {
      expect(log).toContain('Partial publickey for twofa');
      expect(log).toContain('Accepted password for twofa');
    }
  });

  it('the same second factor after a key signed by ssh-agent', async () => {
    const args = ['-l', 'twofa', '-o', `IdentityAgent=${agentSock}`];
    const env = { ASKPASS_ANSWER: 'second-pw' };
    // Only the agent can sign: the private file is unreadable while this runs.
    chmodSync(sshd.keyPath, 0o000);
    try {
      const ssh = await logDuring(() => clients.run('ssh', args, 'id -un', env));
      const ours = await logDuring(() => clients.run(mode, args, 'id -un', env));
      expect(ssh.result).toMatchObject({ code: 0, stdout: 'twofa\n' });
      expect(ours.result).toMatchObject({ code: 0, stdout: 'twofa\n' });
      expect(ours.result.prompts).toEqual(ssh.result.prompts);
      expect(ours.result.prompts).toEqual(["twofa@127.0.0.1's password: "]);
      for (const { log } of [ssh, ours]) {
        expect(log).toContain('Partial publickey for twofa');
        expect(log).toContain('Accepted password for twofa');
      }
    } finally {
      chmodSync(sshd.keyPath, 0o600);
    }
  });
});
