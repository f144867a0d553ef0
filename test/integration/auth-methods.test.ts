import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';

// Differential: each case runs /usr/bin/ssh (OpenSSH 9.2) and sshmux — in-process and through
// its daemon — with the same config and argv, and compares exit status, stderr, the prompts
// asked (via SSH_ASKPASS) and what sshd logged.
let sshd: StartedSshd;
let clients: AuthClients;
let encryptedKey: string;
const MODES: Mode[] = ['direct', 'daemon'];
const DENIED = 'backup@127.0.0.1: Permission denied (publickey,password).';

beforeAll(async () => {
  sshd = await startSshd({ sshdOptions: ['PasswordAuthentication=yes'] });
  await sshd.sh('echo backup:s3cret-pw | chpasswd');
  clients = new AuthClients(sshd);
  encryptedKey = path.join(clients.sandbox.runtimeDir, 'id_encrypted');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'key-phrase', '-C', 'enc', '-f', encryptedKey]);
  const pub = readFileSync(`${encryptedKey}.pub`, 'utf8').trim();
  await sshd.sh(
    `printf '%s\\n' '${pub}' >> /home/backup/.ssh/authorized_keys && ` +
      'chown backup:backup /home/backup/.ssh/authorized_keys && chmod 600 /home/backup/.ssh/authorized_keys',
  );
});

afterAll(async () => {
  await clients?.cleanup();
  await sshd?.stop();
});

/** What sshd logged while `work` ran. */
async function logDuring<T>(work: () => Promise<T>): Promise<{ result: T; log: string }> {
  const before = (await sshd.sshdLog()).length;
  const result = await work();
  return { result, log: (await sshd.sshdLog()).slice(before) };
}

describe.each(MODES)('authentication methods as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it('PubkeyAuthentication=no with only a key: refused like ssh, the key is never offered', async () => {
    const args = ['-o', 'PubkeyAuthentication=no', '-o', 'PasswordAuthentication=no'];
    const ssh = await clients.run('ssh', args, 'echo in');
    const ours = await logDuring(() => clients.run(mode, args, 'echo in'));
    expect(ssh.code).toBe(255);
    expect(ssh.stderr).toContain(DENIED);
    expect(ours.result.code).toBe(255);
    expect(ours.result.stderr).toContain(DENIED);
    expect(ours.result.stdout).toBe('');
    expect(ours.log).not.toContain('publickey for backup');
  });

  it('PreferredAuthentications=password: logs in with the password, not the key', async () => {
    const args = ['-o', 'PreferredAuthentications=password'];
    const env = { ASKPASS_ANSWER: 's3cret-pw' };
    const ssh = await logDuring(() => clients.run('ssh', args, 'echo in', env));
    const ours = await logDuring(() => clients.run(mode, args, 'echo in', env));
    expect(ssh.result).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.result).toMatchObject({ code: 0, stdout: 'in\n', stderr: '' });
    expect(ours.result.prompts).toEqual(ssh.result.prompts);
    expect(ours.result.prompts).toEqual(["backup@127.0.0.1's password: "]);
    for (const { log } of [ssh, ours]) {
      expect(log).toContain('Accepted password for backup');
      expect(log).not.toContain('Accepted publickey');
    }
  });

  it('on a terminal: the password prompt is on the terminal, the answer is read without echo', async () => {
    const args = ['-o', 'PreferredAuthentications=password'];
    const env = { SSH_ASKPASS_REQUIRE: '' };
    const type = { after: "backup@127.0.0.1's password: ", text: 's3cret-pw\r' };
    const ssh = await clients.run('ssh', args, 'echo in', env, { terminal: true, type });
    const ours = await clients.run(mode, args, 'echo in', env, { terminal: true, type });
    expect(ssh.code).toBe(0);
    expect(ours.code).toBe(0);
    for (const r of [ssh, ours]) {
      expect(r.stdout).toContain("backup@127.0.0.1's password: ");
      expect(r.stdout).toMatch(/in\r?\n/);
      expect(r.stdout).not.toContain('s3cret-pw');
      expect(r.prompts).toEqual([]);
    }
  });

  it('on a terminal: Ctrl-C at the password prompt ends the client by SIGINT, as ssh', async () => {
    const args = ['-o', 'PreferredAuthentications=password'];
    const env = { SSH_ASKPASS_REQUIRE: '' };
    const type = { after: "backup@127.0.0.1's password: ", text: '\u0003' };
    const ssh = await clients.run('ssh', args, 'echo in', env, { terminal: true, type });
    const ours = await clients.run(mode, args, 'echo in', env, { terminal: true, type });
    // script -e reports a death by signal n as 128+n, like a shell.
    expect(ssh.code).toBe(130);
    expect(ours.code).toBe(ssh.code);
    expect(ours.stdout).not.toContain('in\r\n');
  });

  it('a wrong password: NumberOfPasswordPrompts prompts, then 255 with ssh wording', async () => {
    const args = ['-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=2'];
    const env = { ASKPASS_ANSWER: 'wrong' };
    const ssh = await clients.run('ssh', args, 'echo in', env);
    const ours = await clients.run(mode, args, 'echo in', env);
    expect(ssh.code).toBe(255);
    expect(ours.code).toBe(255);
    expect(ours.prompts).toEqual(ssh.prompts);
    expect(ours.prompts).toHaveLength(2);
    for (const r of [ssh, ours]) {
      expect(r.stderr.match(/Permission denied, please try again\./g)).toHaveLength(1);
      expect(r.stderr).toContain('backup@127.0.0.1: Permission denied (publickey,password).');
    }
    expect(ours.stderr).not.toContain('wrong');
  });

  it('the default order tries the key first and never asks for a password', async () => {
    const ssh = await clients.run('ssh', [], 'echo in');
    const ours = await logDuring(() => clients.run(mode, [], 'echo in'));
    expect(ssh).toMatchObject({ code: 0, prompts: [] });
    expect(ours.result).toMatchObject({ code: 0, stdout: 'in\n', prompts: [] });
    expect(ours.log).toContain('Accepted publickey for backup');
  });

  it('BatchMode=yes: no prompt at all, denied as ssh', async () => {
    const args = ['-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=password'];
    const ssh = await clients.run('ssh', args, 'echo in', { ASKPASS_ANSWER: 's3cret-pw' });
    const ours = await clients.run(mode, args, 'echo in', { ASKPASS_ANSWER: 's3cret-pw' });
    expect(ssh).toMatchObject({ code: 255, prompts: [] });
    expect(ours).toMatchObject({ code: 255, prompts: [] });
    for (const r of [ssh, ours]) expect(r.stderr).toContain(DENIED);
  });

  it('PasswordAuthentication=no with PreferredAuthentications=password: nothing left to try', async () => {
    const args = ['-o', 'PreferredAuthentications=password', '-o', 'PasswordAuthentication=no'];
    const ssh = await clients.run('ssh', args, 'echo in', { ASKPASS_ANSWER: 's3cret-pw' });
    const ours = await clients.run(mode, args, 'echo in', { ASKPASS_ANSWER: 's3cret-pw' });
    expect(ssh).toMatchObject({ code: 255, prompts: [] });
    expect(ours).toMatchObject({ code: 255, prompts: [] });
    for (const r of [ssh, ours]) expect(r.stderr).toContain(DENIED);
  });

  it('no terminal and SSH_ASKPASS_REQUIRE=never: empty answers, as ssh sends them', async () => {
    const args = ['-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=2'];
    const env = { SSH_ASKPASS_REQUIRE: 'never', ASKPASS_ANSWER: 's3cret-pw' };
    const ssh = await logDuring(() => clients.run('ssh', args, 'echo in', env));
    const ours = await logDuring(() => clients.run(mode, args, 'echo in', env));
    expect(ssh.result).toMatchObject({ code: 255, prompts: [] });
    expect(ours.result).toMatchObject({ code: 255, prompts: [] });
    const failed = (log: string) => log.match(/Failed password for backup/g)?.length ?? 0;
    expect(failed(ours.log)).toBe(failed(ssh.log));
  });

  it("GSSAPIAuthentication and HostbasedAuthentication yes (Debian's defaults set the first): as ssh when the server offers neither", async () => {
    const args = ['-o', 'GSSAPIAuthentication=yes', '-o', 'HostbasedAuthentication=yes'];
    const ssh = await clients.run('ssh', args, 'echo in');
    const ours = await clients.run(mode, args, 'echo in');
    expect(ssh).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'in\n', stderr: '' });
  });

  it("an encrypted key's passphrase comes from SSH_ASKPASS without a terminal, as ssh asks it", async () => {
    const args = ['-o', 'IdentityFile=none', '-i', encryptedKey, '-o', 'PasswordAuthentication=no'];
    const env = { ASKPASS_ANSWER: 'key-phrase' };
    const ssh = await logDuring(() => clients.run('ssh', args, 'echo in', env));
    const ours = await logDuring(() => clients.run(mode, args, 'echo in', env));
    expect(ssh.result).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.result).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.result.prompts).toEqual([`Enter passphrase for key '${encryptedKey}': `]);
    expect(ours.result.prompts).toEqual(ssh.result.prompts);
    for (const { log } of [ssh, ours]) expect(log).toContain('Accepted publickey for backup');
  });

  it('a wrong passphrase is asked NumberOfPasswordPrompts times, then the next key is used, as ssh', async () => {
    const args = ['-i', encryptedKey, '-o', 'NumberOfPasswordPrompts=2', '-o', 'PasswordAuthentication=no'];
    const env = { ASKPASS_ANSWER: 'not-it' };
    const ssh = await clients.run('ssh', args, 'echo in', env);
    const ours = await clients.run(mode, args, 'echo in', env);
    expect(ssh).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'in\n' });
    expect(ours.prompts).toEqual(ssh.prompts);
    expect(ours.prompts).toHaveLength(2);
  });

  it('never writes the password to stderr, even at -vvv', async () => {
    const args = ['-vvv', '-o', 'PreferredAuthentications=password'];
    const r = await clients.run(mode, args, 'echo in', { ASKPASS_ANSWER: 's3cret-pw' });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('s3cret-pw');
    expect(r.stderr.length).toBeGreaterThan(0);
  });
});

describe('the other commands (sshmux hashsum) authenticate the same way', () => {
  it('PreferredAuthentications=password: asked through SSH_ASKPASS, logged in with the password', async () => {
    await sshd.sh(
      'mkdir -p /home/backup/pwtree && echo x > /home/backup/pwtree/f && chown -R backup /home/backup/pwtree',
    );
    const env = {
      ...clients.sandbox.env({
        SSH_ASKPASS: clients.askpass,
        SSH_ASKPASS_REQUIRE: 'force',
        ASKPASS_ANSWER: 's3cret-pw',
      }),
      ASKPASS_LOG: path.join(clients.sandbox.runtimeDir, 'hashsum-askpass.log'),
    };
    const before = (await sshd.sshdLog()).length;
    const r = await runCli(
      ['hashsum', '-F', clients.config, '-o', 'PreferredAuthentications=password', 'target:pwtree'],
      { env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toContain('  f\n');
    expect(readFileSync(env.ASKPASS_LOG, 'utf8')).toBe("backup@127.0.0.1's password: \n");
    expect((await sshd.sshdLog()).slice(before)).toContain('Accepted password for backup');
  });
});
