import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import type { HostConfig, PlainHostOptions } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import type { SshPoolOptions } from '../../src/pool/options.js';
import { SshPool } from '../../src/pool/ssh-pool.js';
import { type BtrfsPair, createBtrfsPair } from './btrfs.js';
import { integrationRequired, SSHD_IMAGE } from './docker.js';

export interface SshdOptions {
  /** Extra sshd `-o Key=Value` options, e.g. `['MaxSessions=10']`. */
  sshdOptions?: string[];
  /** Create loop-backed btrfs filesystems: a source on the host, a destination inside the container. */
  btrfs?: boolean;
  /** Size of each btrfs image. @default '1G' */
  btrfsSize?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Where the destination btrfs appears inside the container. */
export const CONTAINER_BTRFS = '/mnt/btrfs';

/** A running sshd container plus everything a test needs to talk to it. */
export class StartedSshd implements AsyncDisposable {
  readonly host = '127.0.0.1';
  readonly port: number;
  /** Per-run ed25519 client key (OpenSSH format, mode 0600), authorized for root and backup. */
  readonly keyPath: string;
  readonly publicKey: string;
  /** The container's host public keys, as `type base64` lines. */
  readonly hostKeys: readonly string[];
  /** A known_hosts file naming this sshd (`[127.0.0.1]:port`) with all its host keys. */
  readonly knownHostsFile: string;
  /** Scratch directory for the test (removed on stop). */
  readonly tmpDir: string;
  readonly btrfs: BtrfsPair | undefined;
  readonly #container: StartedTestContainer;
  #stopped = false;

  constructor(init: {
    port: number;
    keyPath: string;
    publicKey: string;
    hostKeys: string[];
    knownHostsFile: string;
    tmpDir: string;
    btrfs: BtrfsPair | undefined;
    container: StartedTestContainer;
  }) {
    this.port = init.port;
    this.keyPath = init.keyPath;
    this.publicKey = init.publicKey;
    this.hostKeys = init.hostKeys;
    this.knownHostsFile = init.knownHostsFile;
    this.tmpDir = init.tmpDir;
    this.btrfs = init.btrfs;
    this.#container = init.container;
  }

  /** `[127.0.0.1]:port` as known_hosts writes a non-22 port. */
  get knownHostsName(): string {
    return `[${this.host}]:${this.port}`;
  }

  /** A resolved HostConfig for this sshd: the per-run key, its known_hosts, strict checking. */
  hostConfig(user = 'backup', extra: Partial<PlainHostOptions> = {}): HostConfig {
    return plainHostConfig({
      host: this.host,
      port: this.port,
      user,
      identityFiles: [this.keyPath],
      strictHostKeyChecking: 'yes',
      userKnownHostsFiles: [this.knownHostsFile],
      ...extra,
    });
  }

  /** A pool that trusts exactly this container's host keys (tests that are not about host-key policy). */
  pool(options: SshPoolOptions = {}): SshPool {
    return new SshPool({
      hostKeyVerifier: async (key) => {
        if (!this.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64'))) {
          throw new Error('unknown host key');
        }
      },
      ...options,
    });
  }

  /** Write an ssh_config naming this sshd as `alias` (as a user's ~/.ssh/config would); returns its path. */
  writeSshConfig(
    alias = 'sshd-test',
    user = 'backup',
    file = path.join(this.tmpDir, `ssh_config.${alias}`),
  ): string {
    const lines = [
      `Host ${alias}`,
      `  HostName ${this.host}`,
      `  Port ${this.port}`,
      `  User ${user}`,
      `  IdentityFile ${this.keyPath}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${this.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ];
    writeFileSync(file, lines.join('\n'), { mode: 0o600 });
    return file;
  }

  get containerId(): string {
    return this.#container.getId();
  }

  /** Run a command inside the container as root (or `user`). */
  async exec(argv: string[], user = 'root'): Promise<ExecResult> {
    const r = await this.#container.exec(argv, { user });
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  }

  /** Run `sh -c script` inside the container as root (or `user`) and fail on non-zero exit. */
  async sh(script: string, user = 'root'): Promise<string> {
    const r = await this.exec(['sh', '-c', script], user);
    if (r.exitCode !== 0)
      throw new Error(`container sh failed (${r.exitCode}): ${script}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Logins sshd accepted so far (from its VERBOSE log), optionally for one user. */
  async countLogins(user?: string): Promise<number> {
    const pattern = user ? `Accepted publickey for ${user} ` : 'Accepted publickey for ';
    const r = await this.exec(['grep', '-c', '-F', pattern, '/var/log/sshd.log']);
    return Number.parseInt(r.stdout.trim() || '0', 10);
  }

  /** The whole sshd log so far. */
  async sshdLog(): Promise<string> {
    return (await this.exec(['cat', '/var/log/sshd.log'])).stdout;
  }

  /** Kill every sshd process (listener and sessions) and wait until the listener is back. */
  async restartSshd(): Promise<void> {
    const before = await this.#listenCount();
    await this.exec(['pkill', '-KILL', '-x', 'sshd']);
    // Generous: on a loaded 2-core machine the restart loop has been seen to need over 10 s.
    for (let i = 0; i < 300; i++) {
      if ((await this.#listenCount()) > before) return;
      await sleep(100);
    }
    throw new Error('sshd did not come back within 30 s after restart');
  }

  async #listenCount(): Promise<number> {
    const r = await this.exec(['grep', '-c', 'Server listening', '/var/log/sshd.log']);
    return Number.parseInt(r.stdout.trim() || '0', 10);
  }

  /** Processes in the container whose command line matches `pattern` (pgrep -f), excluding pgrep itself. */
  async processes(pattern: string): Promise<string[]> {
    const r = await this.exec(['pgrep', '-a', '-f', pattern]);
    return r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.includes('pgrep'));
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#container.stop({ timeout: 2_000 });
    } finally {
      try {
        this.btrfs?.destroy();
      } finally {
        rmSync(this.tmpDir, { recursive: true, force: true });
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * A fresh ed25519 client key. ssh2's generator drops a leading zero byte of the public key
 * about once in 256 keys, writing a private key ssh2 itself then rejects as malformed (the
 * suite failed at random on it), so a key is used only once ssh2 can read it back.
 */
export function clientKey(): { private: string; public: string } {
  for (let i = 0; i < 16; i++) {
    // ssh2 is CommonJS: its `utils` is reachable only through the default export under plain Node.
    const keys = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(keys.private) instanceof Error)) return keys;
  }
  throw new Error('ssh2 produced no readable ed25519 key in 16 tries');
}

/** A TCP port on 127.0.0.1 that is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True when this process can make loop-backed btrfs filesystems (root, mkfs.btrfs present). */
export function btrfsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mkfs.btrfs', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the sshd image on a free loopback port (host network), with a fresh client key
 * authorized for `root` and `backup`, and optionally a btrfs pair. Everything is torn down
 * by `stop()` / `await using`, and also when start-up itself fails half-way.
 */
export async function startSshd(options: SshdOptions = {}): Promise<StartedSshd> {
  // A CI run tags what it creates, so its cleanup never touches another run's containers/mounts.
  const run = /^[\w-]+$/.test(process.env.SSHMUX_TEST_RUN ?? '') ? process.env.SSHMUX_TEST_RUN! : '';
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), run ? `sshmux-it-${run}-` : 'sshmux-it-'));
  let btrfs: BtrfsPair | undefined;
  try {
    const keys = clientKey();
    const keyPath = path.join(tmpDir, 'id_ed25519');
    writeFileSync(keyPath, keys.private, { mode: 0o600 });
    writeFileSync(`${keyPath}.pub`, `${keys.public}\n`, { mode: 0o644 });
    const authorized = path.join(tmpDir, 'authorized_keys');
    writeFileSync(authorized, `${keys.public}\n`, { mode: 0o644 });

    if (options.btrfs) {
      if (!btrfsAvailable()) {
        const why = 'btrfs tests need root and btrfs-progs (run scripts/setup-test-host.sh as root)';
        if (integrationRequired()) throw new Error(why);
        throw new Error(`${why}; use btrfsAvailable() to skip`);
      }
      btrfs = createBtrfsPair(tmpDir, options.btrfsSize ?? '1G');
    }

    const port = await freePort();
    const sshdOptions = [
      '-o',
      'MaxStartups=10:30:100',
      ...(options.sshdOptions ?? []).flatMap((o) => ['-o', o]),
    ];
    const binds = [
      { source: authorized, target: '/etc/ssh/authorized_keys/root', mode: 'ro' as 'ro' | 'rw' },
      { source: authorized, target: '/etc/ssh/authorized_keys/backup', mode: 'ro' as 'ro' | 'rw' },
    ];
    if (btrfs) binds.push({ source: btrfs.destination, target: CONTAINER_BTRFS, mode: 'rw' as 'ro' | 'rw' });
    const container = await new GenericContainer(SSHD_IMAGE)
      .withNetworkMode('host')
      .withAddedCapabilities('SYS_ADMIN')
      .withLabels({ 'sshmux.test-run': run || 'none' })
      .withEnvironment({
        SSHD_ADDRESS: '127.0.0.1',
        SSHD_PORT: String(port),
        SSHD_OPTIONS: sshdOptions.join(' '),
      })
      // One call: a second withBindMounts() replaces the first list.
      .withBindMounts(binds)
      .withWaitStrategy(Wait.forLogMessage(/Server listening on/))
      .withStartupTimeout(60_000)
      .start();
    const hostKeyOut = await container.exec(['sh', '-c', 'cat /etc/ssh/ssh_host_*_key.pub']);
    const hostKeys = hostKeyOut.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))
      .filter((l) => l.length > 0);
    const knownHostsFile = path.join(tmpDir, 'known_hosts');
    writeFileSync(knownHostsFile, hostKeys.map((k) => `[127.0.0.1]:${port} ${k}\n`).join(''), {
      mode: 0o600,
    });
    return new StartedSshd({
      port,
      keyPath,
      publicKey: keys.public,
      hostKeys,
      knownHostsFile,
      tmpDir,
      btrfs,
      container,
    });
  } catch (err) {
    btrfs?.destroy();
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
}
