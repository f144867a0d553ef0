import { execFile, spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { eventually } from './pool-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `npm run build`; other files of the tree may still have type errors, so judge by what was emitted. */
async function build(): Promise<void> {
  await new Promise<void>((resolve) => {
    execFile('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT }, () => resolve());
  });
  for (const f of [
    'index',
    'pool/ssh-pool',
    'pool/host-pool',
    'connection/connection',
    'connection/keepalive',
  ]) {
    const src = statSync(path.join(ROOT, 'src', `${f}.ts`)).mtimeMs;
    const out = statSync(path.join(ROOT, 'dist', `${f}.js`)).mtimeMs;
    if (out < src) throw new Error(`dist/${f}.js is older than its source: the build failed`);
  }
}

describe('SshPool resilience and process lifetime', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    [sshd] = await Promise.all([startSshd(), build()]);
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('detects a frozen peer within ~ServerAliveInterval × CountMax, fails the running command, retries the queued one', async () => {
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    await using pool = sshd.pool({ maxConnectionsPerHost: 1, channelsPerConnection: 1 });
    const host = sshd.hostConfig('backup', {
      port: proxy.port,
      serverAliveInterval: 1,
      serverAliveCountMax: 2,
    });
    await pool.exec(host, 'true');
    const running = pool.exec(host, 'sleep 30').catch((e: unknown) => e);
    await eventually(async () => (await sshd.processes('sleep 30')).length > 0, 10_000, 'sleep started');
    // Waits for the only slot: has not started when the connection dies.
    const queued = pool.exec(host, 'echo queued', { encoding: 'utf8' });
    await sleep(100);
    expect(pool.stats().queued).toBe(1);

    const frozenAt = Date.now();
    proxy.freeze();
    const err = await running;
    const detectedMs = Date.now() - frozenAt;
    expect(err).toMatchObject({ kind: 'network', retryable: true });
    // 1 s × 2 silent intervals, plus scheduling slack on a loaded machine.
    expect(detectedMs).toBeGreaterThanOrEqual(900);
    expect(detectedMs).toBeLessThan(5_000);
    await eventually(
      () => pool.stats().perHost[0]?.connections === 0 || proxy.accepted === 2,
      5_000,
      'evicted',
    );

    const loginsBefore = await sshd.countLogins('backup');
    proxy.thaw();
    expect((await queued).stdout).toBe('queued\n');
    expect((await pool.exec(host, 'echo next', { encoding: 'utf8' })).stdout).toBe('next\n');
    expect((await sshd.countLogins('backup')) - loginsBefore).toBe(1);
    expect(proxy.accepted).toBe(2);
  });

  it('keeps a healthy idle connection through keepalives', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig('backup', { serverAliveInterval: 1, serverAliveCountMax: 2 });
    const before = await sshd.countLogins('backup');
    await pool.exec(host, 'true');
    await sleep(3_500);
    await pool.exec(host, 'true');
    expect((await sshd.countLogins('backup')) - before).toBe(1);
  });

  it('reconnects after sshd is restarted under a warm pool', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    expect((await pool.exec(host, 'echo before', { encoding: 'utf8' })).stdout).toBe('before\n');
    const before = await sshd.countLogins('backup');
    await sshd.restartSshd();
    expect((await pool.exec(host, 'echo after', { encoding: 'utf8' })).stdout).toBe('after\n');
    expect((await sshd.countLogins('backup')) - before).toBe(1);
    expect(pool.stats().connections).toBe(1);
  });

  it('a cut connection fails the running command with kind network and the next exec reconnects', async () => {
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    await using pool = sshd.pool();
    const host = sshd.hostConfig('backup', { port: proxy.port });
    const running = pool.exec(host, 'sleep 20').catch((e: unknown) => e);
    await eventually(async () => (await sshd.processes('sleep 20')).length > 0, 10_000, 'sleep started');
    proxy.cutAll();
    expect(await running).toMatchObject({ kind: 'network' });
    expect((await pool.exec(host, 'echo again', { encoding: 'utf8' })).stdout).toBe('again\n');
    expect(proxy.accepted).toBe(2);
  });

  it('an sftp lease whose connection was cut releases its slot, and close() still resolves', async () => {
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    await using pool = sshd.pool();
    const host = sshd.hostConfig('backup', { port: proxy.port });
    const lease = await pool.sftp(host);
    expect(pool.stats().openChannels).toBe(1);
    proxy.cutAll();
    await eventually(() => pool.stats().openChannels === 0, 5_000, 'slot released');
    await lease.close();
    expect(pool.stats().connections).toBe(0);
  });

  it('a program that never calls close() exits on its own right after its last exec', async () => {
    const script = path.join(sshd.tmpDir, 'no-close.mjs');
    writeFileSync(
      script,
      `import { SshPool, plainHostConfig } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/index.js')).href)};
const [port, key] = process.argv.slice(2);
const pool = new SshPool({ hostKeyVerifier: async () => {} });
const host = plainHostConfig({ host: '127.0.0.1', port: Number(port), user: 'backup', identityFiles: [key], strictHostKeyChecking: 'no' });
// The exec's own wait (sleep) must keep the process alive; the idle pool afterwards must not.
const r = await pool.exec(host, 'sleep 0.5; echo from-child', { encoding: 'utf8' });
process.stdout.write(r.stdout);
process.stderr.write('done\\n');
`,
    );
    const child = spawn(process.execPath, [script, String(sshd.port), sshd.keyPath], { stdio: 'pipe' });
    let out = '';
    let err = '';
    let doneAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('done\n') && !doneAt) doneAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    const exitedAt = Date.now();
    expect({ code, out, err }).toEqual({ code: 0, out: 'from-child\n', err: 'done\n' });
    expect(exitedAt - doneAt).toBeLessThan(3_000);
  });

  it('a long-running program keeps the warm connection for persist: a later exec makes no new login', async () => {
    await using pool = sshd.pool({ persist: 60_000 });
    const host = sshd.hostConfig();
    const before = await sshd.countLogins('backup');
    await pool.exec(host, 'true');
    // Something else keeps this process alive; the pool's idle connection stays open.
    await sleep(2_000);
    await pool.exec(host, 'true');
    expect((await sshd.countLogins('backup')) - before).toBe(1);
    expect(pool.stats().connections).toBe(1);
  });

  it('closes an idle connection after persist', async () => {
    const pool = sshd.pool({ persist: 300 });
    const host = sshd.hostConfig();
    await pool.exec(host, 'true');
    expect(pool.stats().connections).toBe(1);
    await eventually(() => pool.stats().connections === 0, 5_000, 'idle close');
    const before = await sshd.countLogins('backup');
    await pool.exec(host, 'true');
    expect((await sshd.countLogins('backup')) - before).toBe(1);
    await pool.close();
    await expect(pool.exec(host, 'true')).rejects.toMatchObject({ kind: 'aborted' });
  });
});
