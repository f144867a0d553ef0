import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { Connection } from '../../src/connection/connection.js';
import { AuthError } from '../../src/errors.js';
import { type AuthProviderOptions, createAuthProvider } from '../../src/security/auth.js';
import { createHostKeyVerifier } from '../../src/security/verify-host-key.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

interface Key {
  file: string;
  pub: string;
  fingerprint: string;
}

let sshd: StartedSshd;
let agent: ChildProcess | undefined;
let agentSock: string;
const keys: Record<string, Key> = {};

function makeKey(name: string, type: string, passphrase = ''): Key {
  const file = path.join(sshd.tmpDir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '3072'] : []),
    '-N',
    passphrase,
    '-C',
    name,
    '-f',
    file,
  ]);
  const pub = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint =
    execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(
      ' ',
    )[1] ?? '';
  return { file, pub, fingerprint };
}

beforeAll(async () => {
  sshd = await startSshd();
  keys.enc = makeKey('id_enc', 'ed25519', 'correct horse');
  keys.rsa = makeKey('id_rsa', 'rsa');
  keys.agent = makeKey('id_agent', 'ed25519');
  keys.loose = makeKey('id_loose', 'ed25519');
  keys.stranger = makeKey('id_stranger', 'ed25519'); // never authorized
  chmodSync(keys.loose.file, 0o644);
  const authorized = ['enc', 'rsa', 'agent', 'loose'].map((k) => keys[k]?.pub).join('\n');
  // /etc/ssh/authorized_keys is a read-only bind mount: add ours to each user's own file.
  await sshd.sh(
    `for h in /root /home/backup; do printf '%s\\n' '${authorized}' >> $h/.ssh/authorized_keys; done; ` +
      'chmod 600 /root/.ssh/authorized_keys /home/backup/.ssh/authorized_keys; ' +
      'chown backup:backup /home/backup/.ssh/authorized_keys',
  );
  agentSock = path.join(sshd.tmpDir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !existsSync(agentSock); i++) await sleep(100);
  execFileSync('ssh-add', ['-q', keys.agent.file], { env: { ...process.env, SSH_AUTH_SOCK: agentSock } });
});

afterAll(async () => {
  if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
  await sshd?.stop();
});

function hostFor(user: string, identityFiles: string[], extra: Partial<HostConfig> = {}): HostConfig {
  const base = plainHostConfig({
    host: sshd.host,
    port: sshd.port,
    user,
    identityFiles,
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [sshd.knownHostsFile],
  });
  return { ...base, globalKnownHostsFiles: [], identitiesOnly: false, identityAgent: 'none', ...extra };
}

async function login(host: HostConfig, options: AuthProviderOptions = {}): Promise<string> {
  const c = new Connection(host, {
    hostKeyVerifier: createHostKeyVerifier(),
    authProvider: createAuthProvider({ env: { SSH_AUTH_SOCK: agentSock }, ...options }),
  });
  try {
    await c.connect();
    const ch = await c.exec('id -un');
    let out = '';
    ch.on('data', (d: Buffer) => {
      out += d.toString();
    });
    ch.stderr.resume();
    await new Promise((resolve) => ch.on('close', resolve));
    return out.trim();
  } finally {
    c.close();
  }
}

async function failure(host: HostConfig, options: AuthProviderOptions = {}): Promise<AuthError> {
  const err = await login(host, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  const e = err as AuthError;
  expect(e.kind).toBe('auth');
  expect(e.retryable).toBe(false);
  return e;
}

/** The key sshd accepted last for `user`, from its VERBOSE log. */
async function lastAccepted(user: string): Promise<string | undefined> {
  const log = await sshd.sshdLog();
  const lines = log.split('\n').filter((l) => l.includes(`Accepted publickey for ${user} `));
  return /(SHA256:\S+)/.exec(lines.at(-1) ?? '')?.[1];
}

describe('authentication against a real sshd', () => {
  it('logs in with a key held by a real ssh-agent (SSH_AUTH_SOCK)', async () => {
    const host = hostFor('root', [], { identityAgent: undefined });
    expect(await login(host)).toBe('root');
    expect(await lastAccepted('root')).toBe(keys.agent?.fingerprint);
  });

  it('logs in with an encrypted ed25519 key, asking the passphrase callback once', async () => {
    const passphrase = vi.fn(async () => 'correct horse');
    expect(await login(hostFor('root', [keys.enc!.file]), { passphrase })).toBe('root');
    expect(passphrase).toHaveBeenCalledTimes(1);
    expect(await lastAccepted('root')).toBe(keys.enc?.fingerprint);
  });

  it('fails with an AuthError listing the keys tried, never the passphrase', async () => {
    const passphrase = async () => 'not the passphrase';
    const e = await failure(hostFor('root', [keys.enc!.file, keys.stranger!.file]), { passphrase });
    expect(e.tried).toEqual([`${keys.stranger?.file} ED25519 ${keys.stranger?.fingerprint}`]);
    expect(e.message).toContain(keys.stranger?.fingerprint);
    expect(e.message).toContain(`${keys.enc?.file}: bad passphrase`);
    expect(e.message).not.toContain('not the passphrase');
  });

  it('logs in with an RSA key (rsa-sha2 signatures)', async () => {
    expect(await login(hostFor('root', [keys.rsa!.file]))).toBe('root');
    expect(await lastAccepted('root')).toBe(keys.rsa?.fingerprint);
  });

  it('refuses an authorized key whose file others can read (UNPROTECTED PRIVATE KEY FILE)', async () => {
    const e = await failure(hostFor('root', [keys.loose!.file]));
    expect(e.message).toContain('UNPROTECTED PRIVATE KEY FILE');
    expect(e.message).toContain(keys.loose?.file);
    expect(e.tried).toEqual([]);
  });

  it('IdentitiesOnly: does not offer agent keys that are not configured identities', async () => {
    const host = hostFor('root', [keys.stranger!.file], { identityAgent: undefined, identitiesOnly: true });
    const e = await failure(host);
    expect(e.tried).toEqual([`${keys.stranger?.file} ED25519 ${keys.stranger?.fingerprint}`]);
    // Without IdentitiesOnly the agent key is offered and accepted.
    expect(await login({ ...host, identitiesOnly: false })).toBe('root');
  });

  it('IdentitiesOnly: a configured identity held by the agent is signed by the agent', async () => {
    // The private file is made unreadable: only the agent can have signed.
    const host = hostFor('root', [keys.agent!.file], { identityAgent: undefined, identitiesOnly: true });
    chmodSync(keys.agent!.file, 0o644);
    try {
      expect(await login(host)).toBe('root');
    } finally {
      chmodSync(keys.agent!.file, 0o600);
    }
    expect(await lastAccepted('root')).toBe(keys.agent?.fingerprint);
  });

  it('logs in as the backup user', async () => {
    expect(await login(hostFor('backup', [keys.rsa!.file]))).toBe('backup');
    expect(await lastAccepted('backup')).toBe(keys.rsa?.fingerprint);
  });
});
