import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { silentLogger } from '../../src/logger.js';
import { currentEnvironment, prepareEndpoint, selectEndpoint } from '../../src/mux/endpoint.js';
import { MuxDaemon } from '../../src/mux/mux-daemon.js';
import { SshPool } from '../../src/pool/ssh-pool.js';
import { runCli } from '../helpers/cli.js';
import { clientKey, type StartedSshd, startSshd } from '../helpers/sshd.js';

// `sshmux doctor` against the real sshd: each failure a user meets first, with the advice printed.
let sshd: StartedSshd;
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-doctor-'));
const home = path.join(dir, 'home');
mkdirSync(home, { mode: 0o700 });
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: dir, SSH_AUTH_SOCK: '' };
delete env.SSHMUX_NO_DAEMON;
delete env.SSHMUX_RUNTIME_DIR;

beforeAll(async () => {
  sshd = await startSshd();
}, 180_000);
afterAll(async () => {
  await runCli(['ssh', '-O', 'exit'], { env });
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** An ssh_config naming the container as `box`, with `extra` lines, and its path. */
function config(extra: string[] = [], knownHosts = sshd.knownHostsFile): string {
  const file = path.join(dir, `config-${++n}`);
  const lines = [
    'Host box',
    '  HostName 127.0.0.1',
    `  Port ${sshd.port}`,
    '  User root',
    ...extra,
    `  IdentityFile ${sshd.keyPath}`,
    `  UserKnownHostsFile ${knownHosts}`,
    '  StrictHostKeyChecking yes',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return file;
}

const doctor = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(['doctor', ...args], { env: { ...env, ...extraEnv } });

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The fingerprints `ssh-keygen -l` prints for a known_hosts file. */
function keygenFingerprints(file: string): string[] {
  return [
    ...execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' }).matchAll(/SHA256:\S+/g),
  ].map((m) => m[0]);
}

describe('sshmux doctor DEST', () => {
  it('a healthy host: config lines with their file:line, the key, the host key fingerprint, connect and exec; exit 0', async () => {
    const file = config();
    const r = await doctor(['-F', file, 'box']);
    const out = r.stdout.toString();
    expect(r.stderr).toBe('');
    expect(out).toContain(`HostName 127.0.0.1  (${file}:2)`);
    expect(out).toContain(`Port ${sshd.port}  (${file}:3)`);
    expect(out).toContain(`StrictHostKeyChecking yes  (${file}:7)`);
    expect(out).toMatch(/ControlPersist no {2}\(default\)/);
    expect(out).toContain(`ok    ${sshd.keyPath} (${file}:5): ED25519 SHA256:`);
    expect(out).toContain('not encrypted');
    const seen = /known: server's \S+ key (SHA256:\S+) matches (\S+):(\d+)/.exec(out);
    expect(seen, out).not.toBeNull();
    expect(keygenFingerprints(sshd.knownHostsFile)).toContain(seen![1]);
    expect(seen![2]).toBe(sshd.knownHostsFile);
    expect(out).toMatch(/ok {4}connected and authenticated to root@127\.0\.0\.1:\d+ in \d+ ms/);
    expect(out).toMatch(/ok {4}exec `true`: exit 0/);
    expect(out).toMatch(/no problems found/);
    expect(r.code).toBe(0);
  });

  it('--json: one document with destination, ok and every check (section, id, status, summary, data)', async () => {
    const r = await doctor(['--json', '-F', config(), 'box']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.destination).toBe('box');
    expect(report.ok).toBe(true);
    const ids = report.checks.map((c: { id: string }) => c.id);
    for (const id of [
      'node',
      'native-crypto',
      'home',
      'daemon',
      'agent',
      'config.hostname',
      'key',
      'keys',
      'known-hosts',
      'connect',
      'exec',
    ])
      expect(ids).toContain(id);
    for (const c of report.checks) {
      expect(['ok', 'warn', 'fail']).toContain(c.status);
      expect(typeof c.summary).toBe('string');
      if (c.status !== 'ok') expect(typeof c.advice).toBe('string');
    }
    const kh = report.checks.find((c: { id: string }) => c.id === 'known-hosts');
    expect(kh.data.state).toBe('known');
    expect(kh.data.key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const host = report.checks.find((c: { id: string }) => c.id === 'config.hostname');
    expect(host.data.origins).toEqual([expect.stringMatching(/config-\d+:2$/)]);
  });

  it('an unknown host key under StrictHostKeyChecking yes: fail with the fingerprint and how to accept it; exit 1', async () => {
    const empty = path.join(dir, 'known_hosts-empty');
    writeFileSync(empty, '');
    const r = await doctor(['-F', config([], empty), 'box']);
    const out = r.stdout.toString();
    expect(out).toMatch(
      new RegExp(`FAIL {2}\\[127\\.0\\.0\\.1\\]:${sshd.port}: unknown: server's \\S+ key SHA256:`),
    );
    expect(out).toContain('-> check the fingerprint');
    expect(out).toContain('StrictHostKeyChecking=accept-new');
    expect(out).toMatch(/FAIL {2}connect to root@127\.0\.0\.1:\d+ failed: .*Host key verification failed/);
    expect(r.code).toBe(1);
  });

  it('an unknown host key under accept-new: a warning, the exec still proven, known_hosts left unwritten', async () => {
    const empty = path.join(dir, 'known_hosts-accept-new');
    writeFileSync(empty, '');
    const r = await doctor(['-F', config([], empty), '-o', 'StrictHostKeyChecking=accept-new', 'box']);
    const out = r.stdout.toString();
    expect(out).toMatch(/WARN {2}\S+: unknown: server's/);
    expect(out).toContain('adds it on the first real connection');
    expect(out).toMatch(/ok {4}exec `true`: exit 0/);
    expect(readFileSync(empty, 'utf8')).toBe('');
    expect(r.code).toBe(0);
  });

  it('a changed host key: fail naming the file:line and the ssh-keygen -R to run; exit 1', async () => {
    const changed = path.join(dir, 'known_hosts-changed');
    const other = clientKey().public.split(' ')[1];
    writeFileSync(changed, `# stale\n[127.0.0.1]:${sshd.port} ssh-ed25519 ${other}\n`);
    const r = await doctor(['-F', config([], changed), 'box']);
    const out = r.stdout.toString();
    expect(out).toContain(`CHANGED: server's ED25519 key SHA256:`);
    expect(out).toContain(`but ${changed}:2 ED25519 SHA256:`);
    expect(out).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${changed}`);
    expect(r.code).toBe(1);
  });

  it('no usable key: the keys line warns, the connect fails as refused authentication with what to do; exit 1', async () => {
    const file = path.join(dir, 'config-nokey');
    writeFileSync(
      file,
      `Host box\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${dir}/missing_key\n` +
        `  IdentitiesOnly yes\n  UserKnownHostsFile ${sshd.knownHostsFile}\n  PasswordAuthentication no\n` +
        '  KbdInteractiveAuthentication no\n',
    );
    const r = await doctor(['-F', file, 'box']);
    const out = r.stdout.toString();
    expect(out).toContain(`WARN  ${dir}/missing_key (IdentityFile, ${file}:5): no such file`);
    expect(out).toMatch(/WARN {2}no usable key would be offered/);
    expect(out).toMatch(/FAIL {2}connect to root@127\.0\.0\.1:\d+ failed: .*Permission denied/);
    expect(out).toContain('-> the server refused every key offered: authorize one (`ssh-copy-id');
    // The host key was still checked: authentication comes after it.
    expect(out).toMatch(/ok {4}\S+: known: server's/);
    expect(r.code).toBe(1);
  });

  it('an unreachable host: the connect fails with the refused port and what to check; exit 1', async () => {
    const port = await closedPort();
    const r = await doctor(['-F', config(), '-p', String(port), 'box']);
    const out = r.stdout.toString();
    expect(out).toContain(`Port ${port}  (-p)`);
    expect(out).toMatch(new RegExp(`FAIL {2}connect to root@127\\.0\\.0\\.1:${port} failed: .*refused`));
    expect(out).toContain(`-> nothing accepts connections at 127.0.0.1 port ${port}`);
    expect(out).toContain('server not reached');
    expect(out).not.toContain('exec `true`');
    expect(r.code).toBe(1);
  });

  it('a configuration that does not resolve: one fail line naming it; exit 1', async () => {
    const bad = path.join(dir, 'config-bad');
    writeFileSync(bad, 'Host box\n  Port zero\n');
    const r = await doctor(['-F', bad, 'box']);
    expect(r.stdout.toString()).toMatch(
      /FAIL {2}the configuration for box does not resolve: .*config-bad line 2: Bad port/,
    );
    expect(r.code).toBe(1);
  });
});

describe('sshmux doctor: the daemon', () => {
  it('without a destination: machine-level lines only; the daemon not running; exit 0', async () => {
    const r = await doctor([]);
    const out = r.stdout.toString();
    expect(out).toMatch(/ok {4}node v\d+/);
    expect(out).toMatch(/native crypto binding \(sshcrypto\.node\) (loaded|NOT loaded)/);
    expect(out).toContain(
      `not running: the first \`sshmux ssh\` starts it; socket ${dir}/sshmux/mux.sock, log ${dir}/sshmux/daemon.log`,
    );
    expect(out).not.toContain('configuration:');
    expect(r.code).toBe(0);
    const off = await doctor([], { SSHMUX_NO_DAEMON: '1' });
    expect(off.stdout.toString()).toContain('not used: SSHMUX_NO_DAEMON=1');
  });

  it('a daemon serving `sshmux ssh`: its version, pid and connections to the destination', async () => {
    const file = config();
    const ssh = await runCli(['ssh', '-F', file, 'box', 'true'], { env });
    expect(ssh.code, ssh.stderr).toBe(0);
    const r = await doctor(['-F', file, 'box']);
    expect(r.stdout.toString()).toMatch(
      new RegExp(
        `ok {4}running: sshmux ${VERSION.replaceAll('.', '\\.')}, pid \\d+, \\d+ session\\(s\\), 1 connection\\(s\\) to root@127\\.0\\.0\\.1:${sshd.port}`,
      ),
    );
    expect(r.code).toBe(0);
    expect((await runCli(['ssh', '-O', 'exit'], { env })).code).toBe(0);
  });

  it('a daemon of another version: fail, with how to stop it; exit 1', async () => {
    const runtime = mkdtempSync(path.join(dir, 'old-'));
    const e = { ...currentEnvironment(), env: { ...env, XDG_RUNTIME_DIR: runtime } };
    const endpoint = selectEndpoint(e);
    prepareEndpoint(endpoint, e);
    const runner = new SshPool({ persist: 0 });
    const old = new MuxDaemon({
      endpoint,
      runner,
      version: '0.0.1-old',
      logger: silentLogger(),
      persistMs: 60_000,
    });
    expect(await old.start()).toBe('listening');
    try {
      const r = await doctor([], { XDG_RUNTIME_DIR: runtime });
      const out = r.stdout.toString();
      expect(out).toMatch(/FAIL {2}a daemon of another version serves .*0\.0\.1-old/);
      expect(out).toContain('-> daemon of another version: stop it with `sshmux ssh -O exit`');
      expect(r.code).toBe(1);
      const json = JSON.parse((await doctor(['--json'], { XDG_RUNTIME_DIR: runtime })).stdout.toString());
      const d = json.checks.find((c: { id: string }) => c.id === 'daemon');
      expect(d.data.versionMismatch).toBe(true);
      expect(d.data.error.code).toBe('SSHMUX_ERR_MUX_VERSION');
      expect(json.ok).toBe(false);
    } finally {
      await old.shutdown('test over');
      await runner.close();
    }
  });
});
