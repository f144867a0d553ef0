import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLI, MuxSandbox } from './mux-helpers.js';

/**
 * Signals sent to the client, measured against OpenSSH: the same remote script is run by
 * /usr/bin/ssh, by `sshmux ssh` through the daemon and by `sshmux ssh` in-process; each gets the
 * same signal once the remote command runs, and the exit status and what the remote side did
 * afterwards must be ssh's.
 */
type Client = 'openssh' | 'daemon' | 'direct';
const CLIENTS: readonly Client[] = ['openssh', 'daemon', 'direct'];

interface Outcome {
  /** The exit status a shell would show: the code, or 128+n for a death by signal n. */
  status: string;
  /** What the remote script recorded after the client was gone. */
  remote: string;
  stderr: string;
}

/** Listening TCP sockets of a process (ss -ltnp), to catch an inspector being opened. */
function listeningPorts(pid: number): string[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`));
}

describe('signals sent to sshmux ssh behave as with ssh', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  beforeAll(async () => {
    sshd = await startSshd();
    box = new MuxSandbox(sshd);
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  function start(client: Client, remote: string): ChildProcess {
    const args = [...box.sshArgs('backup'), remote];
    if (client === 'openssh') {
      return spawn('/usr/bin/ssh', ['-F', 'none', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    }
    const env = box.env(client === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
    return spawn(process.execPath, [CLI, 'ssh', '-F', 'none', ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  async function signalled(client: Client, signal: NodeJS.Signals): Promise<Outcome> {
    const marker = `/tmp/sig-${client}-${signal}-${Date.now()}`;
    // The remote records whether it kept running after the client left, and whether its next
    // write to the (now closed) channel succeeded.
    // The sleep leaves the client seconds to act on the signal even on a loaded machine (the last
    // CI saw a delivery late enough for the command to finish first under SIGQUIT).
    const remote = `echo started; sleep 4; echo after >> ${marker}; echo finished; echo end >> ${marker}`;
    const child = start(client, remote);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin!.on('error', () => {});
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (code, sig) => resolve([code, sig])),
    );
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    child.kill(signal);
    const [code, sig] = await closed;
    await sleep(5_000);
    const seen = await sshd.exec(['sh', '-c', `cat ${marker} 2>/dev/null; rm -f ${marker}`]);
    const status = sig === null ? String(code) : `signal ${sig}`;
    return { status, remote: seen.stdout, stderr };
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) {
    it(`${signal}: exit status and remote effect are ssh's`, async () => {
      const outcomes = await Promise.all(CLIENTS.map((c) => signalled(c, signal)));
      const [openssh, ...ours] = outcomes;
      for (const [i, o] of ours.entries()) {
        expect({ client: CLIENTS[i + 1], status: o!.status, remote: o!.remote }).toEqual({
          client: CLIENTS[i + 1],
          status: openssh!.status,
          remote: openssh!.remote,
        });
        expect(o!.stderr).not.toMatch(/Debugger|inspector/i);
      }
    });
  }

  it('SIGTERM ends a client whose stdout reader stopped reading, at once, as it ends ssh', async () => {
    const statuses: Record<string, string> = {};
    for (const client of CLIENTS) {
      const child = start(client, 'head -c 100000000 /dev/zero');
      const closed = new Promise<string>((resolve) =>
        child.on('close', (code, sig) => resolve(sig === null ? String(code) : `signal ${sig}`)),
      );
      // Read a little, then never again: the pipe fills and the client's writes block.
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      child.stdout!.pause();
      await sleep(1_500);
      child.kill('SIGTERM');
      statuses[client] = await Promise.race([closed, sleep(10_000).then(() => 'still running')]);
      if (statuses[client] === 'still running') child.kill('SIGKILL');
    }
    expect(statuses).toEqual({ openssh: '255', daemon: '255', direct: '255' });
  });

  it('SIGUSR1 during connect kills the client by SIGUSR1 and opens no inspector', async () => {
    // A server that accepts and never speaks: the client is still connecting when signalled.
    const net = await import('node:net');
    const silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const child = spawn(
        process.execPath,
        [CLI, 'ssh', '-F', 'none', '-o', 'StrictHostKeyChecking=no', '-p', String(port), '127.0.0.1', 'true'],
        { env: box.env({ SSHMUX_NO_DAEMON: '1' }), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const closed = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('close', (_c, s) => resolve(s)),
      );
      await sleep(1_000);
      child.kill('SIGUSR1');
      await sleep(200);
      const ports = child.exitCode === null && child.signalCode === null ? listeningPorts(child.pid!) : [];
      expect(await closed).toBe('SIGUSR1');
      expect(ports).toEqual([]);
      expect(stderr).not.toMatch(/Debugger listening/);
    } finally {
      silent.close();
    }
  });

  it('a signal while a ProxyCommand is connecting ends the proxy too: nothing is left running', async () => {
    const pidFile = path.join(box.home, 'proxy.pid');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'ssh',
        '-F',
        'none',
        '-o',
        `ProxyCommand=sh -c 'echo $$ > ${pidFile}; exec sleep 30'`,
        'h',
        'true',
      ],
      { env: box.env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_c, s) => resolve(s)));
    let pid = 0;
    for (let i = 0; i < 100 && pid === 0; i++) {
      await sleep(50);
      pid = Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim() || 0);
    }
    expect(pid).toBeGreaterThan(0);
    await sleep(1_000);
    child.kill('SIGTERM');
    expect(await closed).toBe('SIGTERM');
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      await sleep(50);
      gone = !existsSync(`/proc/${pid}`) || /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    }
    expect(gone).toBe(true);
  });

  it('SIGUSR1 to the daemon opens no inspector and ends it as it ends an ssh master', async () => {
    const first = await box.remote('true');
    expect(first.code).toBe(0);
    const [pid] = await box.waitForDaemons(1);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGUSR1');
    await sleep(300);
    // Dead or a zombie (its parent, the first client, is gone and this init may not reap it).
    const alive = (() => {
      try {
        return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    })();
    const ports = alive ? listeningPorts(pid!) : [];
    expect(ports).toEqual([]);
    expect(alive).toBe(false);
    // The next invocation starts a daemon again and works.
    const again = await box.remote('echo back');
    expect(again.stdout.toString()).toBe('back\n');
    expect(again.code).toBe(0);
  });

  it('an inspector opened by an inherited NODE_OPTIONS is closed at once, in the CLI and the daemon', async () => {
    const r = await box.run([...box.sshArgs('backup'), 'sleep 1; echo ok'], {
      env: { NODE_OPTIONS: '--inspect=127.0.0.1:0' },
    });
    expect(r.stdout.toString()).toBe('ok\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/closed the Node inspector/);
    for (const pid of box.daemonPids()) expect(listeningPorts(pid)).toEqual([]);
  });

  it('rsync -e "sshmux ssh" that fails on the remote side prints rsync\'s error and no debugger line', async () => {
    const src = path.join(box.home, 'rsync-src');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'file'), 'data\n');
    const e = [process.execPath, CLI, 'ssh', '-F', 'none', ...box.sshArgs('backup').slice(0, -1)].join(' ');
    // /root is not writable for backup: the remote rsync fails, and rsync signals its -e child.
    const r = await new Promise<{ code: number | null; signal: string | null; stderr: string }>(
      (resolve, reject) => {
        const child = spawn('rsync', ['-a', '-e', e, `${src}/`, `backup@${sshd.host}:/root/denied/`], {
          env: box.env(),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stderr }));
      },
    );
    // rsync's own status for the remote's error (3); its message is the remote's stderr, which
    // must reach us although rsync sends SIGUSR1 to its -e child as soon as it learns of it.
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 3, signal: null });
    expect(r.stderr).toMatch(/rsync.*(Permission denied|error)/);
    expect(r.stderr).not.toMatch(/Debugger|inspector/i);
    // And a transfer that can succeed does, through the same -e.
    const ok = await new Promise<number | null>((resolve) => {
      const child = spawn('rsync', ['-a', '-e', e, `${src}/`, `backup@${sshd.host}:/tmp/rsync-dst/`], {
        env: box.env(),
        stdio: 'ignore',
      });
      child.on('close', resolve);
    });
    expect(ok).toBe(0);
    expect((await sshd.exec(['cat', '/tmp/rsync-dst/file'])).stdout).toBe('data\n');
  });
});
