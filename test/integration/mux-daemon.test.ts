import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { prepareEndpoint, selectEndpoint } from '../../src/mux/endpoint.js';
import { connectDaemon, UntrustedEndpointError } from '../../src/mux/mux-client.js';
import { MuxDaemon } from '../../src/mux/mux-daemon.js';
import { SshPool } from '../../src/pool/ssh-pool.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI, type CliResult, MuxSandbox, runCli } from './mux-helpers.js';

/** The daemon's life: start, reuse, control commands, stale sockets, crashes, races, other users. */
describe('sshmux ssh daemon lifecycle', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterEach(async () => {
    await box?.cleanup();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  function fresh(): MuxSandbox {
    box = new MuxSandbox(sshd);
    return box;
  }

  /** Start a client in the background; resolves when it exits. */
  function background(b: MuxSandbox, command: string): Promise<CliResult> {
    return b.run([...b.sshArgs(), command]);
  }

  async function waitForRemote(pattern: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if ((await sshd.processes(pattern)).length > 0) return;
      await sleep(100);
    }
    throw new Error(`remote process ${pattern} never appeared`);
  }

  it('-O check reports no daemon, then the daemon and its connections; -O exit stops it', async () => {
    const b = fresh();
    const none = await b.run(['-O', 'check', 'x']);
    expect(none.code).toBe(255);
    expect(none.stderr).toMatch(/no sshmux daemon is running/);
    expect((await b.remote('true')).code).toBe(0);
    const [pid] = b.daemonPids();
    expect(pid).toBeGreaterThan(0);
    const check = await b.run(['-O', 'check', ...b.sshArgs()]);
    expect(check.code).toBe(0);
    expect(check.stderr).toBe(
      `Master running (pid=${pid}, 1 connection(s) to root@127.0.0.1:${sshd.port})\n`,
    );
    const exit = await b.run(['-O', 'exit', 'x']);
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('Exit request sent.\n');
    expect(await b.waitForDaemons(0)).toEqual([]);
    expect(existsSync(b.socketPath)).toBe(false);
  });

  it('reuses one daemon and one connection for sequential invocations', async () => {
    const b = fresh();
    const before = await sshd.countLogins();
    for (let i = 0; i < 5; i++) expect((await b.remote(`echo ${i}`)).stdout.toString()).toBe(`${i}\n`);
    expect(b.daemonPids()).toHaveLength(1);
    expect(await sshd.countLogins()).toBe(before + 1);
  });

  it('replaces a stale socket left by a daemon killed with -9', async () => {
    const b = fresh();
    expect((await b.remote('true')).code).toBe(0);
    const [old] = b.daemonPids();
    process.kill(old!, 'SIGKILL');
    await b.waitForDaemons(0);
    expect(existsSync(b.socketPath)).toBe(true);
    const r = await b.remote('echo again');
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('again\n');
    const now = b.daemonPids();
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(old);
  });

  it('fails a session cleanly with 255 when the daemon dies under it; the next call starts a new one', async () => {
    const b = fresh();
    const running = background(b, 'sleep 30; echo never');
    await waitForRemote('sleep 30');
    const [pid] = b.daemonPids();
    process.kill(pid!, 'SIGKILL');
    const r = await running;
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/^sshmux: lost the connection to the sshmux daemon \(pid \d+\)/);
    expect(r.stdout.toString()).toBe('');
    const next = await b.remote('echo fine');
    expect(next.stdout.toString()).toBe('fine\n');
    expect(b.daemonPids()).not.toContain(pid);
  });

  it('-O exit stops the daemon even while a session runs (that client fails with 255)', async () => {
    const b = fresh();
    const running = background(b, 'sleep 33; echo never');
    await waitForRemote('sleep 33');
    const exit = await b.run(['-O', 'exit', 'x']);
    expect(exit.code).toBe(0);
    const r = await running;
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/lost the connection to the sshmux daemon/);
    expect(await b.waitForDaemons(0)).toEqual([]);
    await sshd.exec(['pkill', '-f', 'sleep 33']);
  });

  it('-O stop lets running sessions finish while a new daemon takes new ones', async () => {
    const b = fresh();
    const running = background(b, 'sleep 2; echo finished');
    await waitForRemote('sleep 2');
    const [old] = b.daemonPids();
    const stop = await b.run(['-O', 'stop', 'x']);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toBe('Stop listening request sent.\n');
    const next = await b.remote('echo new');
    expect(next.stdout.toString()).toBe('new\n');
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('finished\n');
    const after = await b.waitForDaemons(1);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(old);
  });

  it('exits after SSHMUX_PERSIST seconds idle', async () => {
    const b = fresh();
    const r = await b.run([...b.sshArgs(), 'true'], { env: { SSHMUX_PERSIST: '1' } });
    expect(r.code).toBe(0);
    expect(b.daemonPids()).toHaveLength(1);
    expect(await b.waitForDaemons(0, 8_000)).toEqual([]);
    expect(existsSync(b.socketPath)).toBe(false);
  });

  it('starts exactly one daemon when many clients start at once', async () => {
    const b = fresh();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => b.remote(`echo ${i}`)));
    results.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe(`${i}\n`);
    });
    // Losers of the start race leave at once; one daemon remains.
    await sleep(500);
    expect(b.daemonPids()).toHaveLength(1);
  });

  it('serves from a runtime dir too long for a Unix socket path, via the short hashed socket', async () => {
    const b = fresh();
    const longDir = path.join(b.runtimeDir, 'x'.repeat(100));
    mkdirSync(longDir, { mode: 0o700 });
    const env = { XDG_RUNTIME_DIR: longDir };
    const endpoint = selectEndpoint({
      platform: process.platform,
      env,
      uid: process.getuid!(),
      username: 'root',
      tmpdir: '/tmp',
      homedir: '/root',
    });
    expect(endpoint.socketDir).toBe(`/tmp/sshmux-${process.getuid!()}`);
    try {
      const r = await b.run([...b.sshArgs(), 'echo long'], { env });
      expect(r.stderr).toBe('');
      expect(r.stdout.toString()).toBe('long\n');
      expect(existsSync(endpoint.socketPath)).toBe(true);
      const check = await b.run(['-O', 'check', 'x'], { env });
      expect(check.stderr).toMatch(/^Master running \(pid=\d+, 0 connection\(s\) to \S+@x:22\)\n$/);
    } finally {
      await b.run(['-O', 'exit', 'x'], { env });
    }
    for (let i = 0; i < 50 && existsSync(endpoint.socketPath); i++) await sleep(100);
    expect(existsSync(endpoint.socketPath)).toBe(false);
  });

  it('falls back to an in-process connection at once when the daemon cannot start', async () => {
    const b = fresh();
    // Something that is not a socket sits where the daemon must listen.
    mkdirSync(b.socketPath, { recursive: true, mode: 0o700 });
    const t0 = Date.now();
    const r = await b.remote('echo direct');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('direct\n');
    expect(r.stderr).toMatch(/the sshmux daemon failed to start \(exit code 1\); see .*daemon\.log/);
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(b.daemonPids()).toEqual([]);
  });

  it('a client with the wrong token refuses the daemon before proving anything', async () => {
    const b = fresh();
    expect((await b.remote('true')).code).toBe(0);
    const endpoint = selectEndpoint({
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: b.daemonDir },
      uid: process.getuid!(),
      username: 'root',
      tmpdir: '/tmp',
      homedir: '/root',
    });
    const forged = path.join(b.runtimeDir, 'forged-token');
    writeFileSync(forged, 'f'.repeat(64));
    const err = await connectDaemon({ ...endpoint, tokenFile: forged }, '0.1.0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedEndpointError);
    expect((err as UntrustedEndpointError).code).toBe('SSHMUX_ERR_MUX_UNTRUSTED');
  });

  it('a socket planted where the daemon listens learns nothing that authenticates; the command runs in-process', async () => {
    const b = fresh();
    // The user's token exists (an earlier daemon made it); the daemon is gone, a stranger listens.
    expect((await b.remote('true')).code).toBe(0);
    expect((await b.run(['-O', 'exit', 'x'])).code).toBe(0);
    await b.waitForDaemons(0);
    const token = readFileSync(path.join(b.daemonDir, 'token'), 'utf8').trim();
    const received: Buffer[] = [];
    const fake = net.createServer((s) => {
      s.on('data', (d) => received.push(d));
      s.on('error', () => {});
    });
    await new Promise<void>((r) => fake.listen(b.socketPath, r));
    try {
      const before = await sshd.countLogins();
      const t0 = Date.now();
      const r = await b.remote('echo ran');
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('ran\n');
      expect(r.stderr).toMatch(/did not prove it is this user's daemon \(no proof: .*\); not using it/);
      // In-process: its own login, and no daemon was started behind the stranger's back.
      expect(await sshd.countLogins()).toBe(before + 1);
      expect(b.daemonPids()).toEqual([]);
      expect(Date.now() - t0).toBeLessThan(20_000);
      const wire = Buffer.concat(received);
      expect(wire.includes(token)).toBe(false);
      expect(wire.toString('latin1')).toMatch(/"nonce":"[0-9a-f]{64}"/);
      expect(wire.toString('latin1')).not.toMatch(/proof/);
      const check = await b.run(['-O', 'check', 'x']);
      expect(check.code).toBe(255);
      expect(check.stderr).toMatch(/did not prove it is this user's daemon/);
    } finally {
      fake.close();
    }
  });

  it('the daemon does not inherit NODE_OPTIONS, NODE_DEBUG or LD_PRELOAD from the client that started it', async () => {
    const b = fresh();
    // Code NODE_OPTIONS preloads records which processes ran it: the client may, the daemon must not.
    const marker = path.join(b.runtimeDir, 'preloaded');
    const preload = path.join(b.runtimeDir, 'preload.cjs');
    writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n');\n`);
    const r = await b.remote('echo ok', {
      env: { NODE_OPTIONS: `--require ${preload}`, NODE_DEBUG: 'sshmux-none', LD_PRELOAD: '' },
    });
    expect(r.stdout.toString()).toBe('ok\n');
    const [pid] = b.daemonPids();
    expect(pid).toBeGreaterThan(0);
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    expect(environ.filter((v) => /^(NODE_|LD_PRELOAD=)/.test(v))).toEqual([]);
    expect(environ).toContain(`XDG_RUNTIME_DIR=${b.runtimeDir}`);
    const ran = readFileSync(marker, 'utf8').trim().split('\n').map(Number);
    expect(ran.length).toBeGreaterThan(0);
    expect(ran).not.toContain(pid);
  });

  it('a daemon of another version: the command runs in-process with a warning, and -O exit stops it', async () => {
    const b = fresh();
    const env = {
      platform: process.platform,
      env: { XDG_RUNTIME_DIR: b.runtimeDir },
      uid: process.getuid!(),
      username: 'root',
      tmpdir: '/tmp',
      homedir: '/root',
    };
    const endpoint = selectEndpoint(env);
    prepareEndpoint(endpoint, env);
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
      const before = await sshd.countLogins();
      const r = await b.remote('echo ran');
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('ran\n');
      expect(r.stderr).toMatch(/version mismatch: daemon \(pid \d+\) is sshmux 0\.0\.1-old.*-O exit/);
      expect(await sshd.countLogins()).toBe(before + 1);
      const check = await b.run(['-O', 'check', 'x']);
      expect(check.stderr).toMatch(new RegExp(`^Master running \\(pid=${process.pid}[,)]`));
      const exit = await b.run(['-O', 'exit', 'x']);
      expect(exit.code).toBe(0);
      await old.done;
    } finally {
      await old.shutdown('test over');
      await runner.close();
    }
  });

  it("keeps another local user out of this user's daemon", async () => {
    const b = fresh();
    expect((await b.remote('true')).code).toBe(0);
    // Let `nobody` reach the runtime dir; the daemon's own dir stays 0700 root.
    chmodSync(b.runtimeDir, 0o755);
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
    const env = { ...b.env(), HOME: '/nonexistent' };
    const check = await runCli(['ssh', '-O', 'check', 'x'], { env, wrap: asNobody });
    expect(check.code).toBe(255);
    expect(check.stderr).toMatch(/Refusing the sshmux runtime directory .*owned by uid 0/);
    const session = await runCli(['ssh', ...b.sshArgs(), 'echo pwned'], { env, wrap: asNobody });
    expect(session.code).toBe(255);
    expect(session.stdout.toString()).toBe('');
    expect(session.stderr).toMatch(/Refusing the sshmux runtime directory/);
    // Even with the directory check bypassed, the socket and token are out of reach.
    const raw = await new Promise<number | null>((resolve) => {
      const c = spawn(
        asNobody[0]!,
        [
          ...asNobody.slice(1),
          process.execPath,
          '-e',
          `require('node:net').connect(${JSON.stringify(b.socketPath)}).on('connect',()=>process.exit(0)).on('error',e=>{console.error(e.code);process.exit(3)})`,
        ],
        { stdio: 'ignore' },
      );
      c.on('close', resolve);
    });
    expect(raw).toBe(3);
    expect(CLI).toMatch(/sshmux\.cjs$/);
  });
});
