import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { SshPool } from '../../src/pool/ssh-pool.js';
import type { StartedSshd } from '../helpers/sshd.js';
import { TREE_SCRIPT } from '../unit/manifest/helpers.js';

/**
 * An ssh_config for the CLI (`-F`): alias `sshd-test` → the container as `backup`, with the
 * per-run key and known_hosts, so nothing of the machine's own ~/.ssh is used.
 */
export function cliConfig(sshd: StartedSshd): { dir: string; args: string[]; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-cli-'));
  const file = path.join(dir, 'ssh_config');
  writeFileSync(
    file,
    [
      'Host sshd-test',
      `  HostName ${sshd.host}`,
      `  Port ${sshd.port}`,
      '  User backup',
      `  IdentityFile ${sshd.keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${sshd.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  return { dir, args: ['-F', file], env: { SSHMUX_NO_DAEMON: '1', SSH_AUTH_SOCK: '' } };
}

/** `dest:PATH` for the CLI through the `sshd-test` alias of `cliConfig`. */
export function remoteSpec(remotePath: string): string {
  return `sshd-test:${remotePath}`;
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
