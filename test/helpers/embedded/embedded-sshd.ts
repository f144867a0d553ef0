import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type Connection } from 'ssh2';
import type { HostConfig, PlainHostOptions } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import type { SshPoolOptions } from '../../../src/pool/options.js';
import { SshPool } from '../../../src/pool/ssh-pool.js';
import { type EmbeddedSshdOptions, resolveOptions } from './embedded-options.js';

export type { EmbeddedSshdOptions } from './embedded-options.js';

import { freshEd25519 } from './keys.js';
import { serveSession } from './session-handler.js';

/**
 * An SSH server in this process: ssh2's `Server` on 127.0.0.1 with a fresh ed25519 host key
 * and a client key made for the run, commands run by the local shell in a scratch home
 * directory, SFTP from the local file system, MaxSessions enforced per connection. The same
 * surface as the container harness's `StartedSshd` where the two can agree, so test bodies
 * and the demo take either.
 */
export class StartedEmbeddedSshd implements AsyncDisposable {
  readonly host = '127.0.0.1';
  readonly port: number;
  /** The run's client key (OpenSSH format, mode 0600). */
  readonly keyPath: string;
  readonly publicKey: string;
  /** The server's host public key, as a `type base64` line. */
  readonly hostKeys: readonly string[];
  /** A known_hosts file naming this server (`[127.0.0.1]:port`) with its host key. */
  readonly knownHostsFile: string;
  /** Scratch directory (removed on stop); `home` is inside it. */
  readonly tmpDir: string;
  /** Where sessions start and relative SFTP paths point: the "remote" user's home. */
  readonly home: string;
  readonly maxSessions: number;
  readonly #server: ssh2.Server;
  readonly #clients: Set<Connection>;
  readonly #children: Set<ChildProcess>;
  readonly #logins: Map<string, number>;
  readonly #refused: { count: number };
  #stopped = false;

  constructor(init: {
    port: number;
    keyPath: string;
    publicKey: string;
    hostKey: string;
    knownHostsFile: string;
    tmpDir: string;
    home: string;
    maxSessions: number;
    server: ssh2.Server;
    clients: Set<Connection>;
    children: Set<ChildProcess>;
    logins: Map<string, number>;
    refused: { count: number };
  }) {
    this.port = init.port;
    this.keyPath = init.keyPath;
    this.publicKey = init.publicKey;
    this.hostKeys = [init.hostKey];
    this.knownHostsFile = init.knownHostsFile;
    this.tmpDir = init.tmpDir;
    this.home = init.home;
    this.maxSessions = init.maxSessions;
    this.#server = init.server;
    this.#clients = init.clients;
    this.#children = init.children;
    this.#logins = init.logins;
    this.#refused = init.refused;
  }

  /** `[127.0.0.1]:port` as known_hosts writes a non-22 port. */
  get knownHostsName(): string {
    return `[${this.host}]:${this.port}`;
  }

  /** A resolved HostConfig for this server: the run's key, its known_hosts, strict checking. */
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

  /** A pool that trusts exactly this server's host key. */
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

  /** Write an ssh_config naming this server as `alias` (as a user's ~/.ssh/config would); returns its path. */
  writeSshConfig(
    alias = 'sshd-test',
    user = 'backup',
    file = path.join(this.tmpDir, `ssh_config.${alias}`),
  ): string {
    // Quoted, with forward slashes on Windows: a temp dir under "C:\Users\Jane Doe" must survive
    // ssh_config's word splitting and backslash escapes.
    const file_ = (p: string): string => `"${process.platform === 'win32' ? p.replaceAll('\\', '/') : p}"`;
    const lines = [
      `Host ${alias}`,
      `  HostName ${this.host}`,
      `  Port ${this.port}`,
      `  User ${user}`,
      `  IdentityFile ${file_(this.keyPath)}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${file_(this.knownHostsFile)}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ];
    writeFileSync(file, lines.join('\n'), { mode: 0o600 });
    return file;
  }

  /** Logins accepted so far, optionally for one user (the container's countLogins()). */
  async countLogins(user?: string): Promise<number> {
    if (user !== undefined) return this.#logins.get(user) ?? 0;
    let n = 0;
    for (const v of this.#logins.values()) n += v;
    return n;
  }

  /** Session channels refused so far because a connection was at MaxSessions. */
  get refusedSessions(): number {
    return this.#refused.count;
  }

  /** Stop listening, disconnect every client, end every command still running, remove the scratch dir. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#clients) c.end();
    for (const child of this.#children) child.kill('SIGKILL');
    await closed;
    rmSync(this.tmpDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Start an embedded server on a free port of 127.0.0.1 (never another address). */
export async function startEmbeddedSshd(options: EmbeddedSshdOptions = {}): Promise<StartedEmbeddedSshd> {
  const opts = resolveOptions(options);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-embedded-'));
  try {
    const home = path.join(tmpDir, 'home');
    mkdirSync(home, { mode: 0o700 });
    const client = freshEd25519('sshmux-embedded-client');
    const host = freshEd25519('sshmux-embedded-host');
    const keyPath = path.join(tmpDir, 'id_ed25519');
    writeFileSync(keyPath, client.private, { mode: 0o600 });
    writeFileSync(`${keyPath}.pub`, `${client.public}\n`, { mode: 0o644 });
    const allowed = ssh2.utils.parseKey(client.public);
    if (allowed instanceof Error) throw allowed;
    const allowedBlob = allowed.getPublicSSH();

    const clients = new Set<Connection>();
    const children = new Set<ChildProcess>();
    const logins = new Map<string, number>();
    const refused = { count: 0 };
    let port = 0;

    const server = new ssh2.Server({ hostKeys: [host.private] }, (conn, info) => {
      clients.add(conn);
      let user = '';
      let sessions = 0;
      conn.on('error', () => {});
      conn.on('close', () => clients.delete(conn));
      conn.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || !opts.users.has(ctx.username)) return ctx.reject(['publickey']);
        if (ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowedBlob))
          return ctx.reject(['publickey']);
        // Without a signature the client only asks whether the key would do (OpenSSH's PK_OK).
        if (ctx.signature === undefined) return ctx.accept();
        if (ctx.blob === undefined || allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
          return ctx.reject(['publickey']);
        }
        user = ctx.username;
        ctx.accept();
      });
      conn.on('ready', () => {
        logins.set(user, (logins.get(user) ?? 0) + 1);
        conn.on('session', (accept, reject) => {
          if (sessions >= opts.maxSessions) {
            refused.count++;
            return reject();
          }
          sessions++;
          const session = accept();
          session.once('close', () => sessions--);
          serveSession(session, {
            home,
            user,
            connection: `${info.ip} ${info.port} 127.0.0.1 ${port}`,
            acceptEnv: (name) => opts.acceptEnv.some((re) => re.test(name)),
            children,
          });
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    const hostKey = host.public.split(' ').slice(0, 2).join(' ');
    const knownHostsFile = path.join(tmpDir, 'known_hosts');
    writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKey}\n`, { mode: 0o600 });
    return new StartedEmbeddedSshd({
      port,
      keyPath,
      publicKey: client.public,
      hostKey,
      knownHostsFile,
      tmpDir,
      home,
      maxSessions: opts.maxSessions,
      server,
      clients,
      children,
      logins,
      refused,
    });
  } catch (err) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }
}
