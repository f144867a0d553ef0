import { readFileSync } from 'node:fs';
import type { StartedSshd } from '../helpers/sshd.js';
import { TREE_SCRIPT } from '../unit/manifest/helpers.js';

/**
 * CLI arguments for the container (`-F`: alias `sshd-test` → `backup` with the per-run key and
 * known_hosts), so nothing of the machine's own ~/.ssh is used.
 */
export function cliConfig(sshd: StartedSshd): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['-F', sshd.writeSshConfig('sshd-test')],
    env: { SSHMUX_NO_DAEMON: '1', SSH_AUTH_SOCK: '' },
  };
}

/** `dest:PATH` for the CLI through the `sshd-test` alias of `cliConfig`. */
export function remoteSpec(remotePath: string): string {
  return `sshd-test:${remotePath}`;
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
