import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { SshPool } from '../../src/pool/ssh-pool.js';
import type { StartedSshd } from '../helpers/sshd.js';
import { TREE_SCRIPT } from '../unit/manifest/helpers.js';

/** A HOME whose ~/.ssh holds the per-run key and known_hosts, so the CLI's default pool reaches the sshd. */
export function cliHome(sshd: StartedSshd): { home: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'sshmux-home-'));
  mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  copyFileSync(sshd.keyPath, path.join(home, '.ssh', 'id_ed25519'));
  copyFileSync(sshd.knownHostsFile, path.join(home, '.ssh', 'known_hosts'));
  return { home, env: { HOME: home, SSHMUX_NO_DAEMON: '1', XDG_RUNTIME_DIR: home, SSH_AUTH_SOCK: '' } };
}

/** `dest:PATH` for the CLI: the bracketed form carries user and port through scp syntax. */
export function remoteSpec(sshd: StartedSshd, remotePath: string, user = 'backup'): string {
  return `[${user}@${sshd.host}:${sshd.port}]:${remotePath}`;
}

export function hostOf(sshd: StartedSshd, user = 'backup'): HostConfig {
  return plainHostConfig({
    host: sshd.host,
    port: sshd.port,
    user,
    identityFiles: [sshd.keyPath],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [sshd.knownHostsFile],
  });
}

export function poolFor(sshd: StartedSshd, options: ConstructorParameters<typeof SshPool>[0] = {}): SshPool {
  return new SshPool({
    hostKeyVerifier: async (key) => {
      if (!sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')))
        throw new Error('unknown host key');
    },
    ...options,
  });
}

/** Build the hostile tree inside the container (as root) with the fixture script. */
export async function makeRemoteTree(
  sshd: StartedSshd,
  dir: string,
  env: { SMALL: string; SPARSE: string; UNREADABLE?: string },
): Promise<void> {
  const vars = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const script = readFileSync(TREE_SCRIPT, 'utf8');
  const r = await sshd.exec(['sh', '-c', `export ${vars}\n${script}`, 'make-hostile-tree', dir]);
  if (r.exitCode !== 0) throw new Error(`make-hostile-tree failed: ${r.stderr}`);
  // Readable by `backup`, except the one file meant to be unreadable.
  await sshd.sh(`chmod -R go+rX ${dir} && { [ ! -e ${dir}/unreadable ] || chmod 000 ${dir}/unreadable; }`);
}

/** Bytes of a container command's stdout (testcontainers decodes output as text, so it travels as base64). */
export async function containerBytes(sshd: StartedSshd, script: string, user = 'root'): Promise<Buffer> {
  const r = await sshd.exec(['sh', '-c', `{ ${script}; } | base64 -w0`], user);
  return Buffer.from(r.stdout, 'base64');
}
