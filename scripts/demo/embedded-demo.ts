/**
 * The demo without a Docker engine: the embedded SSH server (ssh2's Server in this process,
 * 127.0.0.1 only) stands in for sshd, and the built package and CLI work against it exactly as
 * against any host — through an ssh_config, host key checked against known_hosts.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HostConfig, SshPool } from '../../src/index.js';
import { runCli } from '../../test/helpers/cli.js';
import { type StartedEmbeddedSshd, startEmbeddedSshd } from '../../test/helpers/embedded/embedded-sshd.js';
import { loadBuiltPackage, ms, type Sshmux, say } from './report.js';

const WIN = process.platform === 'win32';
/** A command that takes a moment, so a burst really holds its sessions at once. */
const slowEcho = (i: number): string =>
  WIN ? `ping -n 2 127.0.0.1 >nul & echo ${i}` : `sleep 0.2; echo ${i}`;

export async function embeddedDemo(why: string): Promise<void> {
  const sshmux = await loadBuiltPackage();
  say(`sshmux demo: ${why}; using the embedded SSH server instead.`);
  const server = await startEmbeddedSshd({ maxSessions: 4 });
  try {
    say(
      `embedded SSH server (ssh2's Server, in this process) on 127.0.0.1:${server.port}, MaxSessions ${server.maxSessions}; ` +
        `fresh ed25519 host key in ${server.knownHostsFile}; commands run by ${WIN ? 'cmd.exe' : '/bin/sh'} in ${server.home}`,
    );
    const configFile = server.writeSshConfig('demo');
    const resolve = (dest: string): Promise<HostConfig> => sshmux.resolveHostConfig(dest, { configFile });
    const pool = new sshmux.SshPool({ resolve });
    try {
      await burst(pool, server, 50);
      await throughCli(server, configFile);
      if (await hasGnuTools(pool)) {
        await manifests(sshmux, pool, server);
        await pushTree(sshmux, pool, server);
      } else {
        say(
          'manifests and push: skipped — their remote side runs GNU find -printf, sha256sum, xargs -0 and touch -d @, ' +
            `which this ${process.platform} machine lacks (any Linux server has them; the Docker path shows them)`,
        );
      }
    } finally {
      await pool.close();
    }
  } finally {
    await server.stop();
  }
  say(
    'with a Docker engine, `npm run demo` runs the same against the real OpenSSH sshd of Dockerfile.sshd ' +
      '(the reference the test suite holds sshmux to, MaxSessions 10, 200-command bursts) and, as root with ' +
      'btrfs-progs, btrfs send/receive replication.',
  );
  setupHint();
  say('demo: done');
}

async function burst(pool: SshPool, server: StartedEmbeddedSshd, n: number): Promise<void> {
  const logins = await server.countLogins();
  const refused = server.refusedSessions;
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => pool.exec('demo', slowEcho(i), { encoding: 'utf8' })),
  );
  const ok = results.filter(
    (r, i) => r.status === 'fulfilled' && r.value.exitCode === 0 && r.value.stdout.trim() === String(i),
  ).length;
  const stats = pool.stats();
  say(
    `pool: ${n} commands at once, ${ok}/${n} succeeded in ${ms(t0)} over ${stats.connections} connection(s) and ` +
      `${(await server.countLogins()) - logins} login(s); the server refused ${server.refusedSessions - refused} ` +
      `session(s) past MaxSessions ${server.maxSessions}, the pool learned each connection's capacity ` +
      `(${stats.perHost[0]?.capacities.join(', ')}) and queued or spilled instead of failing`,
  );
  if (ok !== n) throw new Error(`only ${ok} of ${n} commands succeeded`);
}

async function throughCli(server: StartedEmbeddedSshd, configFile: string): Promise<void> {
  const runtimeDir = path.join(server.tmpDir, 'mux');
  mkdirSync(runtimeDir, { mode: 0o700 });
  // A daemon of its own for the demo, never the user's; no agent, only the config's key.
  const env = { SSHMUX_RUNTIME_DIR: runtimeDir, SSH_AUTH_SOCK: '', SSHMUX_NO_DAEMON: '' };
  const ssh = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['ssh', '-F', configFile, ...args], { env: { ...env, ...extra }, timeoutMs: 60_000 });
  // As many as one connection's MaxSessions: through the daemon they all share one login.
  const processes = server.maxSessions;
  try {
    await sshTwoWays(ssh, processes, server);
    const check = await ssh(['-O', 'check', 'demo']);
    say(`sshmux ssh -O check: ${check.stderr.trim()}`);
  } finally {
    await ssh(['-O', 'exit', 'demo']);
  }
}

async function sshTwoWays(
  ssh: (args: string[], extra?: Record<string, string>) => ReturnType<typeof runCli>,
  processes: number,
  server: StartedEmbeddedSshd,
): Promise<void> {
  for (const [label, extra] of [
    ['in-process (SSHMUX_NO_DAEMON=1)', { SSHMUX_NO_DAEMON: '1' }],
    ['through the daemon', {}],
  ] as const) {
    const before = await server.countLogins();
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: processes }, (_, i) => ssh(['demo', `echo process ${i}`], extra)),
    );
    const ok = runs.filter((r, i) => r.code === 0 && r.stdout.toString().trim() === `process ${i}`).length;
    if (ok !== processes) {
      const bad = runs.find((r) => r.code !== 0);
      throw new Error(`sshmux ssh ${label}: ${ok}/${processes} worked; ${bad?.stderr ?? ''}`);
    }
    say(
      `sshmux ssh ${label}: ${processes} processes at once (\`sshmux ssh -F <config> demo 'echo …'\`), ` +
        `${ok} answered in ${ms(t0)} with ${(await server.countLogins()) - before} login(s)`,
    );
  }
}

/** The remote side of manifests and push is GNU/Linux userland; probe for it rather than assume. */
async function hasGnuTools(pool: SshPool): Promise<boolean> {
  if (WIN) return false;
  const probe =
    "find . -maxdepth 0 -printf '' && sha256sum --version && touch --version && xargs -0 -r true </dev/null";
  const r = await pool.exec('demo', `{ ${probe}; } >/dev/null 2>&1`);
  return r.exitCode === 0;
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), body);
  }
}

async function manifests(sshmux: Sshmux, pool: SshPool, server: StartedEmbeddedSshd): Promise<void> {
  const files = { 'a file': 'one', 'sub/b': 'two', 'new\nline': 'three' };
  writeTree(path.join(server.home, 'tree'), files);
  const local = path.join(server.tmpDir, 'tree');
  writeTree(local, { ...files, 'sub/b': 'TWO' });
  const [remote, mine] = await Promise.all([
    sshmux.remoteManifest(pool, 'demo:tree'),
    sshmux.localManifest(local),
  ]);
  const diff = sshmux.compareManifests(mine, remote);
  say(
    `manifests: ${remote.size} remote files hashed by find | sha256sum in one exec; identical: ${diff.identical.length}, ` +
      `missing: ${diff.missing.length}, extra: ${diff.extra.length}, mismatched: ${diff.mismatched.join(', ')}`,
  );
  if (diff.identical.length !== 2 || diff.mismatched.length !== 1)
    throw new Error('unexpected manifest comparison');
}

async function pushTree(sshmux: Sshmux, pool: SshPool, server: StartedEmbeddedSshd): Promise<void> {
  const local = path.join(server.tmpDir, 'site');
  writeTree(
    local,
    Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`page-${i}.html`, `<p>${i}</p>\n`])),
  );
  writeTree(local, { 'assets/style.css': 'p { color: teal }\n' });
  const first = await sshmux.push(pool, local, 'demo:site', { verify: true });
  say(
    `push: ${first.uploaded.length} files (${first.bytesSent} bytes) over SFTP, ${first.directoriesCreated.length} ` +
      `director${first.directoriesCreated.length === 1 ? 'y' : 'ies'} created, both trees verified by SHA-256: ${first.verified}`,
  );
  writeTree(local, { 'page-3.html': '<p>three, edited</p>\n' });
  const second = await sshmux.push(pool, local, 'demo:site', { verify: true });
  say(
    `push again after one edit: ${second.uploaded.length} file sent (${second.uploaded.join(', ')}), ` +
      `${second.unchanged} unchanged, verified: ${second.verified}`,
  );
  if (first.uploaded.length !== 21 || second.uploaded.length !== 1 || !second.verified) {
    throw new Error('push did not do what it should');
  }
}

/** On a Debian machine the engine is one script away. */
function setupHint(): void {
  if (process.platform !== 'linux' || !existsSync('/etc/debian_version')) return;
  const root = process.getuid?.() === 0;
  say(
    `to get the Docker path on this Debian machine: ${root ? '' : 'sudo '}bash scripts/setup-test-host.sh ` +
      '(installs docker.io and the suite’s clients, starts an engine; safe to run again)',
  );
}
