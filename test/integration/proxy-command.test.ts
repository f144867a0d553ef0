import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../src/config/plain.js';
import { Connection } from '../../src/connection/connection.js';
import { proxyJumpSocketFactory } from '../../src/connection/proxy-jump.js';
import { createAuthProvider } from '../../src/security/auth.js';
import { createHostKeyVerifier } from '../../src/security/verify-host-key.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { alive, CLIENTS, pidGone, runClient, writeBridge } from './proxy-clients.js';

/**
 * ProxyCommand, differentially: the same ssh_config and argv given to /usr/bin/ssh and to
 * `sshmux ssh`, compared on exit status, what the proxy did and whether it is gone afterwards.
 */
let sshd: StartedSshd;
let dir: string;
let config: string;
let home: string;

function env(client: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // No daemon override: a ProxyCommand must make sshmux connect in-process by itself.
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: path.join(dir, `run-${client}`),
    SSH_AUTH_SOCK: '',
    PROXY_TAG: client,
    ...extra,
  };
  delete e.SSHMUX_NO_DAEMON;
  return e;
}

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-proxycmd-'));
  home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  for (const c of CLIENTS) mkdirSync(path.join(dir, `run-${c}`), { mode: 0o700 });
  const bridge = writeBridge(dir);
  // MARK is relative: the proxy runs in the client's working directory, with the client's env.
  config = path.join(dir, 'config');
  writeFileSync(
    config,
    [
      'Host proxied',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      '  User root',
      `  IdentityFile ${sshd.keyPath}`,
      `  UserKnownHostsFile ${sshd.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      `  ProxyCommand sh -c 'touch MARK-$PROXY_TAG-%n; echo proxy-stderr-%r >&2; exec ${process.execPath} ${bridge} %h %p pid-$PROXY_TAG'`,
      'Host *',
      `  IdentityFile ${sshd.keyPath}`,
      `  UserKnownHostsFile ${sshd.knownHostsFile}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(CLIENTS)('ProxyCommand with %s', (client) => {
  it('connects through the command (tokens, env, cwd, stderr) and leaves it not running', async () => {
    const cwd = path.join(dir, `cwd-${client}`);
    mkdirSync(cwd);
    const r = await runClient(client, ['-F', config, 'proxied', 'echo connected; echo $SSH_CONNECTION'], {
      env: env(client),
      cwd,
    });
    expect(r.stderr).toContain('proxy-stderr-root');
    expect(r.code).toBe(0);
    const [line1, line2] = r.stdout.toString().trim().split('\n');
    expect(line1).toBe('connected');
    expect(line2?.split(' ')[3]).toBe(String(sshd.port));
    expect(existsSync(path.join(cwd, `MARK-${client}-proxied`))).toBe(true);
    const proxy = await pidGone(path.join(cwd, `pid-${client}`));
    expect(proxy.gone).toBe(true);
    // The daemon was not used: ProxyCommand connections run in the invoking process.
    if (client === 'sshmux')
      expect(existsSync(path.join(dir, 'run-sshmux', 'sshmux', 'mux.sock'))).toBe(false);
  });

  it('fails with 255 when the command exits at once (ProxyCommand=false)', async () => {
    const r = await runClient(
      client,
      ['-F', config, '-o', 'ProxyCommand=false', 'anyhost', 'echo connected'],
      {
        env: env(client),
        cwd: dir,
      },
    );
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    if (client === 'sshmux') expect(r.stderr).toContain('ProxyCommand `false` exited with status 1');
    else expect(r.stderr).toContain('Connection closed by remote host');
  });

  it('sends its stderr to /dev/null under ControlPath and ControlPersist, but keeps it with -v', async () => {
    // ControlMaster stays no: ssh finds no control socket and connects itself (sshconnect.c).
    const control = [
      '-o',
      `ControlPath=${path.join(dir, `no-socket-${client}-%C`)}`,
      '-o',
      'ControlPersist=yes',
    ];
    const cwd = path.join(dir, `cwd-persist-${client}`);
    mkdirSync(cwd, { recursive: true });
    const quiet = await runClient(client, ['-F', config, ...control, 'proxied', 'echo connected'], {
      env: env(client),
      cwd,
    });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout.toString()).toBe('connected\n');
    expect(quiet.stderr).not.toContain('proxy-stderr-root');
    const verbose = await runClient(client, ['-F', config, '-v', ...control, 'proxied', 'echo connected'], {
      env: env(client),
      cwd,
    });
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.toString()).toBe('connected\n');
    expect(verbose.stderr).toContain('proxy-stderr-root');
  });

  it('times out on a command that hangs (ConnectTimeout), and kills it', async () => {
    const pidFile = path.join(dir, `hang-${client}`);
    const r = await runClient(
      client,
      [
        '-F',
        config,
        '-o',
        `ProxyCommand=sh -c 'echo $$ > ${pidFile}; exec sleep 30'`,
        '-o',
        'ConnectTimeout=2',
        'anyhost',
        'echo connected',
      ],
      { env: env(client), cwd: dir, timeoutMs: 20_000 },
    );
    expect(r.code).toBe(255);
    expect(r.ms).toBeLessThan(10_000);
    expect(r.stderr).toMatch(client === 'sshmux' ? /timed out after 2000 ms/ : /timed out/);
    expect((await pidGone(pidFile)).gone).toBe(true);
  });

  it('`ProxyCommand none` on the command line wins over the file: connects directly', async () => {
    const cwd = path.join(dir, `none-${client}`);
    mkdirSync(cwd);
    const r = await runClient(client, ['-F', config, '-o', 'ProxyCommand=none', 'proxied', 'echo direct'], {
      env: env(client),
      cwd,
    });
    expect(r.stdout.toString()).toBe('direct\n');
    expect(r.code).toBe(0);
    expect(existsSync(path.join(cwd, `MARK-${client}-proxied`))).toBe(false);
  });
});

describe('ProxyCommand in the library', () => {
  it('ends a proxy that ignores the end of its stdin and SIGHUP when the connection closes', async () => {
    const stubborn = path.join(dir, 'stubborn.mjs');
    writeFileSync(
      stubborn,
      [
        "import net from 'node:net';",
        "import { writeFileSync } from 'node:fs';",
        'const [host, port, pidFile] = process.argv.slice(2);',
        'writeFileSync(pidFile, String(process.pid));',
        "process.on('SIGHUP', () => {});",
        'setInterval(() => {}, 1000);',
        'const sock = net.connect({ host, port: Number(port) });',
        "process.stdin.on('data', (d) => sock.write(d));",
        "sock.on('data', (d) => process.stdout.write(d));",
        "sock.on('error', () => {});",
      ].join('\n'),
    );
    const pidFile = path.join(dir, 'stubborn-pid');
    const host = {
      ...plainHostConfig({
        host: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        identityFiles: [sshd.keyPath],
        strictHostKeyChecking: 'yes',
        userKnownHostsFiles: [sshd.knownHostsFile],
      }),
      globalKnownHostsFiles: [],
      identityAgent: 'none',
      proxyCommand: `${process.execPath} ${stubborn} %h %p ${pidFile}`,
    };
    const hostKeyVerifier = createHostKeyVerifier();
    const authProvider = createAuthProvider({ env: {} });
    const c = new Connection(host, {
      hostKeyVerifier,
      authProvider,
      socketFactory: proxyJumpSocketFactory({
        hostKeyVerifier,
        authProvider,
        proxyCommand: { stderr: 'ignore' },
      }),
    });
    await c.connect();
    const ch = await c.exec('echo $SSH_CONNECTION');
    let out = '';
    ch.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((resolve) => ch.on('close', resolve));
    expect(out.trim().split(' ')[3]).toBe(String(sshd.port));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    const closedAt = Date.now();
    c.close();
    // Grace for the close (2 s), then SIGHUP, ignored, then SIGKILL (1 s).
    for (let i = 0; i < 60 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(2_500);
  });
});
