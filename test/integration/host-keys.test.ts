import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { Connection } from '../../src/connection/connection.js';
import { HostKeyError } from '../../src/errors.js';
import { createAuthProvider } from '../../src/security/auth.js';
import { fingerprintSha256 } from '../../src/security/fingerprint.js';
import { createHostKeyVerifier } from '../../src/security/verify-host-key.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

let sshd: StartedSshd;
let n = 0;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

function hostFor(extra: Partial<HostConfig> = {}): { host: HostConfig; file: string } {
  const file = path.join(sshd.tmpDir, `kh${n++}`, 'known_hosts');
  const base = plainHostConfig({
    host: sshd.host,
    port: sshd.port,
    user: 'root',
    identityFiles: [sshd.keyPath],
    userKnownHostsFiles: [file],
  });
  return { host: { ...base, globalKnownHostsFiles: [], poolKey: `hk-${n}`, ...extra }, file };
}

function writeKnownHosts(file: string, lines: string[]): void {
  execFileSync('mkdir', ['-p', path.dirname(file)]);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** Connect through sshmux's Connection with the real verifier; resolves to the error, if any. */
async function connect(host: HostConfig): Promise<Error | undefined> {
  const c = new Connection(host, {
    hostKeyVerifier: createHostKeyVerifier(),
    authProvider: createAuthProvider({ env: {} }),
  });
  try {
    await c.connect();
    const ch = await c.exec('true');
    ch.resume();
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    c.close();
  }
}

const serverFingerprints = (): string[] =>
  sshd.hostKeys.map((k) => fingerprintSha256(Buffer.from(k.split(' ')[1] ?? '', 'base64')));

describe('host keys against a real sshd', () => {
  it('accepts the keys in the harness known_hosts under StrictHostKeyChecking yes', async () => {
    const { host } = hostFor({ strictHostKeyChecking: 'yes', userKnownHostsFiles: [sshd.knownHostsFile] });
    expect(await connect(host)).toBeUndefined();
  });

  it.each(['ssh-rsa', 'ecdsa-sha2-nistp256'])(
    'a host known only by its %s key is accepted under StrictHostKeyChecking yes (known types negotiated first)',
    async (type) => {
      const key = sshd.hostKeys.find((k) => k.startsWith(`${type} `));
      expect(key, `the container has a ${type} host key`).toBeDefined();
      const { host, file } = hostFor({ strictHostKeyChecking: 'yes' });
      writeKnownHosts(file, [`[127.0.0.1]:${sshd.port} ${key}`]);
      expect(await connect(host)).toBeUndefined();
      // An explicit HostKeyAlgorithms is the user's order and is not changed: Ed25519 first.
      const explicit = { ...host, hostKeyAlgorithms: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512'] };
      expect(await connect(explicit)).toBeInstanceOf(HostKeyError);
    },
  );

  it('refuses an unknown host by default (ask with no prompt) and writes nothing', async () => {
    const { host, file } = hostFor();
    const err = await connect(host);
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as HostKeyError).kind).toBe('host-key');
    expect(err?.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(err?.message).toContain('StrictHostKeyChecking=accept-new');
    expect(existsSync(file)).toBe(false);
  });

  it('accept-new appends [host]:port like OpenSSH, then the next strict connect is accepted', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'accept-new' });
    expect(await connect(host)).toBeUndefined();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const [name, type, b64] = (lines[0] ?? '').split(' ');
    expect(name).toBe(`[127.0.0.1]:${sshd.port}`);
    expect(sshd.hostKeys).toContain(`${type} ${b64}`);
    // ssh-keygen finds it under the OpenSSH name for a non-22 port.
    expect(
      execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file], { encoding: 'utf8' }),
    ).toContain(b64);
    expect(await connect({ ...host, strictHostKeyChecking: 'yes' })).toBeUndefined();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('accept-new with HashKnownHosts writes a hashed line ssh-keygen -F can find', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'accept-new', hashKnownHosts: true });
    expect(await connect(host)).toBeUndefined();
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(text).not.toContain('127.0.0.1');
    expect(
      execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file], { encoding: 'utf8' }),
    ).toMatch(/Host \[127\.0\.0\.1\]:\d+ found/);
  });

  it('refuses a changed key, even under StrictHostKeyChecking no, naming file:line and both fingerprints', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'no' });
    // A different key of every type the server has, so whichever it offers has "changed".
    const fake = sshd.hostKeys.map((k, i) => {
      const type = k.split(' ')[0] ?? '';
      const t =
        type === 'ssh-rsa' ? ['rsa', '-b', '2048'] : type.startsWith('ecdsa') ? ['ecdsa'] : ['ed25519'];
      const keyFile = path.join(sshd.tmpDir, `fake${n}-${i}`);
      rmSync(keyFile, { force: true });
      execFileSync('ssh-keygen', ['-q', '-N', '', '-t', ...t, '-f', keyFile]);
      return readFileSync(`${keyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    });
    writeKnownHosts(file, ['# the old keys', ...fake.map((k) => `[127.0.0.1]:${sshd.port} ${k}`)]);
    const err = await connect(host);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err?.message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(err?.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(err?.message).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d`));
    const offered = serverFingerprints().filter((f) => err?.message.includes(f));
    expect(offered).toHaveLength(1);
    const old = fake.map((k) => fingerprintSha256(Buffer.from(k.split(' ')[1] ?? '', 'base64')));
    expect(old.filter((f) => err?.message.includes(f))).toHaveLength(1);
  });

  it('refuses a key marked @revoked although it is also listed as known', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'no' });
    writeKnownHosts(file, [
      ...sshd.hostKeys.map((k) => `[127.0.0.1]:${sshd.port} ${k}`),
      ...sshd.hostKeys.map((k) => `@revoked * ${k}`),
    ]);
    const err = await connect(host);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err?.message).toMatch(/REVOKED HOST KEY/);
  });

  it('looks the host up under its HostKeyAlias, not under [host]:port', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'yes', hostKeyAlias: 'sshmux-test-alias' });
    writeKnownHosts(
      file,
      sshd.hostKeys.map((k) => `sshmux-test-alias ${k}`),
    );
    expect(await connect(host)).toBeUndefined();
    expect(await connect({ ...host, hostKeyAlias: undefined })).toBeInstanceOf(HostKeyError);
  });

  it('does not take a port-22 entry (bare host name) for a non-22 port', async () => {
    const { host, file } = hostFor({ strictHostKeyChecking: 'yes' });
    writeKnownHosts(
      file,
      sshd.hostKeys.map((k) => `127.0.0.1 ${k}`),
    );
    const err = await connect(host);
    expect(err).toBeInstanceOf(HostKeyError);
    expect(err?.message).toMatch(/is not known/);
  });
});
