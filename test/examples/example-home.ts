import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StartedSshd } from '../helpers/sshd.js';

/** Aliases of the one container sshd in the examples' ~/.ssh/config, all logging in as backup. */
export const EXAMPLE_ALIASES = ['demo', 'nas', 'web', 'web01', 'web02', 'web03', 'web04', 'web05'] as const;

/**
 * A scratch home for the examples: `.ssh/config` naming the container (the aliases above, and
 * `demo-root` as root), its `known_hosts` and the client key where ssh looks for them; and a run
 * directory whose `node_modules/sshmux` links to this checkout, so `'sshmux'` is the build.
 */
export function exampleHome(
  sshd: StartedSshd,
  root: string,
  checkout: string,
): { home: string; run: string; config: string } {
  const home = path.join(root, 'home');
  const ssh = path.join(home, '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  copyFileSync(sshd.keyPath, path.join(ssh, 'id_ed25519'));
  copyFileSync(sshd.knownHostsFile, path.join(ssh, 'known_hosts'));
  const entry = (alias: string, user: string): string =>
    [`Host ${alias}`, `  HostName ${sshd.host}`, `  Port ${sshd.port}`, `  User ${user}`, ''].join('\n');
  const config = path.join(ssh, 'config');
  writeFileSync(
    config,
    [
      ...EXAMPLE_ALIASES.map((a) => entry(a, 'backup')),
      entry('demo-root', 'root'),
      // ssh's defaults find the key and known_hosts in this home; no prompt may ever wait.
      'Host *\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n  BatchMode yes\n',
    ].join('\n'),
    { mode: 0o600 },
  );
  const run = path.join(root, 'run');
  mkdirSync(path.join(run, 'node_modules'), { recursive: true });
  symlinkSync(checkout, path.join(run, 'node_modules', 'sshmux'), 'dir');
  // What the docs' examples read locally: ./data (manifests) and ./site (push).
  for (const dir of ['data', 'site']) {
    mkdirSync(path.join(run, dir, 'sub'), { recursive: true });
    writeFileSync(path.join(run, dir, 'index.txt'), `${dir}\n`);
    writeFileSync(path.join(run, dir, 'sub', 'name with spaces.txt'), 'x\n');
  }
  return { home, run, config };
}

/** What the docs' examples read on the server. */
export const SERVER_FIXTURES =
  "mkdir -p /srv/data/sub '/srv/my files' && echo data > /srv/data/index.txt && echo x > '/srv/data/sub/name with spaces.txt' && echo hi > '/srv/my files/hello.txt' && chmod -R a+rX /srv";
