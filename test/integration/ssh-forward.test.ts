import { statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/cli/version.js';
import { currentEnvironment, selectEndpoint } from '../../src/mux/endpoint.js';
import { connectDaemon, sendControl } from '../../src/mux/mux-client.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import {
  echoServer,
  exchange,
  firstLine,
  freePort,
  startClient,
  stopClient,
  waitListening,
} from './forward-clients.js';
import { CLI } from './mux-helpers.js';

// -L, -D and -W of `sshmux ssh`, each against the container's sshd and, where ssh prints
// something, compared with /usr/bin/ssh (OpenSSH 9.2) on the same argv. Every listener binds
// 127.0.0.1 explicitly: the test machines allow no other address.
let sshd: StartedSshd;
let clients: AuthClients;
let echo: Awaited<ReturnType<typeof echoServer>>;
const MODES: Mode[] = ['direct', 'daemon'];
/** A name only the container resolves: SOCKS names must be resolved on the server side. */
const REMOTE_ONLY = 'sshmux-remote-only.test';
const REMOTE_SOCKET = '/tmp/sshmux-fwd-app.sock';

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
  echo = await echoServer();
  await sshd.sh(`echo "127.0.0.1 ${REMOTE_ONLY}" >> /etc/hosts`);
  // A Unix-socket server inside the container that answers `unix:` and the line it got.
  await sshd.sh(
    `setsid perl -MIO::Socket::UNIX -e 'unlink $ARGV[0]; my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 16) or die; chmod 0777, $ARGV[0]; while (my $c = $s->accept) { my $l = <$c>; print $c "unix:$l"; close $c }' ${REMOTE_SOCKET} </dev/null >/dev/null 2>&1 &`,
  );
}, 120_000);

afterAll(async () => {
  echo?.server.close();
  await clients?.cleanup();
  await sshd?.stop();
});

describe.each(MODES)('sshmux ssh -L (%s)', (mode) => {
  it('forwards a local port to the container sshd and to a server, bytes and EOF both ways', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const c = startClient(
      clients,
      mode,
      ['-L', `127.0.0.1:${a}:127.0.0.1:${sshd.port}`, '-L', `127.0.0.1:${b}:localhost:${echo.port}`],
      'sleep 30',
    );
    await waitListening(b);
    const banner = await firstLine(a);
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH_9\.2/);
    const before = echo.seen.length;
    expect(await exchange(b, `hello from ${mode}\n`)).toBe(`echo:hello from ${mode}\n`);
    expect(echo.seen.slice(before)).toContain(`hello from ${mode}\n`);
    await stopClient(c);
  });

  it('-N -L: no session, the forward serves until SIGTERM, then exit 0 as ssh', async () => {
    const results = [];
    for (const client of ['ssh', mode] as const) {
      const port = await freePort();
      const c = startClient(
        clients,
        client,
        ['-N', '-L', `127.0.0.1:${port}:localhost:${echo.port}`],
        undefined,
      );
      await waitListening(port);
      expect(await exchange(port, `held by ${client}\n`)).toBe(`echo:held by ${client}\n`);
      expect(await exchange(port, 'again\n')).toBe('echo:again\n');
      await stopClient(c);
      results.push(await c.done);
    }
    expect(results[0]).toMatchObject({ code: 0, stdout: '' });
    expect(results[1]).toEqual(results[0]);
  });

  it('LocalForward from ssh_config, a local Unix socket (StreamLocalBindMask) and a remote socket', async () => {
    const dir = clients.sandbox.runtimeDir;
    const local = path.join(dir, `fwd-${mode}.sock`);
    const masked = path.join(dir, `fwd-${mode}-masked.sock`);
    const port = await freePort();
    const c = startClient(
      clients,
      mode,
      [
        '-o',
        `LocalForward ${local} 127.0.0.1:${echo.port}`,
        '-L',
        `127.0.0.1:${port}:${REMOTE_SOCKET}`,
        '-o',
        'StreamLocalBindMask=0111',
        '-L',
        `${masked}:127.0.0.1:${echo.port}`,
      ],
      'sleep 30',
    );
    await waitListening(port);
    await waitListening(masked);
    expect(await exchange(local, 'via socket\n')).toBe('echo:via socket\n');
    expect(await exchange(port, 'to remote socket\n')).toBe('unix:to remote socket\n');
    // ssh's mask 0111 leaves the socket rw for all; the default 0177 for the owner only.
    expect(statSync(masked).mode & 0o777).toBe(0o666);
    await stopClient(c);
    const d = startClient(clients, mode, ['-L', `${local}x:127.0.0.1:${echo.port}`], 'sleep 30');
    await waitListening(`${local}x`);
    expect(statSync(`${local}x`).mode & 0o777).toBe(0o600);
    await stopClient(d);
  });

  it("a taken port: ssh's three lines and the command runs; ExitOnForwardFailure yes exits 255", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const args = ['-L', `127.0.0.1:${port}:127.0.0.1:${sshd.port}`];
      const ssh = await clients.run('ssh', args, 'echo ran');
      const ours = await clients.run(mode, args, 'echo ran');
      expect(ssh.stderr).toBe(
        `bind [127.0.0.1]:${port}: Address already in use\n` +
          `channel_setup_fwd_listener_tcpip: cannot listen to port: ${port}\n` +
          'Could not request local forwarding.\n',
      );
      expect(ours).toMatchObject({ code: 0, stdout: 'ran\n', stderr: ssh.stderr });
      const strict = [...args, '-o', 'ExitOnForwardFailure=yes'];
      const sshStrict = await clients.run('ssh', strict, 'echo ran');
      const oursStrict = await clients.run(mode, strict, 'echo ran');
      expect(sshStrict).toMatchObject({ code: 255, stdout: '' });
      expect(oursStrict).toMatchObject({ code: 255, stdout: '', stderr: sshStrict.stderr });
      // One of two forwards failing: ssh says "Could not request" only when none listens, and
      // ExitOnForwardFailure still ends the run.
      const free = await freePort();
      const mixed = [...args, '-L', `127.0.0.1:${free}:127.0.0.1:${sshd.port}`];
      const sshMixed = await clients.run('ssh', mixed, 'echo ran');
      expect(sshMixed.stderr).not.toContain('Could not request');
      expect(await clients.run(mode, mixed, 'echo ran')).toMatchObject({
        code: 0,
        stdout: 'ran\n',
        stderr: sshMixed.stderr,
      });
      const mixedStrict = [...mixed, '-o', 'ExitOnForwardFailure=yes'];
      const sshMixedStrict = await clients.run('ssh', mixedStrict, 'echo ran');
      expect(sshMixedStrict.code).toBe(255);
      expect(await clients.run(mode, mixedStrict, 'echo ran')).toMatchObject({
        code: 255,
        stdout: '',
        stderr: sshMixedStrict.stderr,
      });
      // -D reports a taken port the same way.
      const dyn = ['-D', `127.0.0.1:${port}`];
      expect((await clients.run(mode, dyn, 'true')).stderr).toBe(
        (await clients.run('ssh', dyn, 'true')).stderr,
      );
    } finally {
      taken.close();
    }
  });

  it("a socket path already there: ssh's unix_listener lines; StreamLocalBindUnlink yes replaces it", async () => {
    const stale = path.join(clients.sandbox.runtimeDir, `stale-${mode}.sock`);
    writeFileSync(stale, '');
    const args = ['-L', `${stale}:127.0.0.1:${echo.port}`];
    const ssh = await clients.run('ssh', args, 'echo ran');
    expect(ssh).toMatchObject({
      code: 0,
      stdout: 'ran\n',
      stderr: `unix_listener: cannot bind to path ${stale}: Address already in use\nCould not request local forwarding.\n`,
    });
    expect(await clients.run(mode, args, 'echo ran')).toMatchObject({
      code: 0,
      stdout: 'ran\n',
      stderr: ssh.stderr,
    });
    const c = startClient(clients, mode, ['-o', 'StreamLocalBindUnlink=yes', ...args], 'sleep 30');
    await waitListening(stale);
    expect(await exchange(stale, 'fresh\n')).toBe('echo:fresh\n');
    await stopClient(c);
  });

  it('a refused open: ssh\'s "channel N: open failed" line, the socket closed, other channels unaffected', async () => {
    const stderrOf = async (client: 'ssh' | Mode): Promise<string> => {
      const [bad, good] = [await freePort(), await freePort()];
      const closedPort = await freePort();
      const c = startClient(
        clients,
        client,
        ['-L', `127.0.0.1:${bad}:127.0.0.1:${closedPort}`, '-L', `127.0.0.1:${good}:127.0.0.1:${echo.port}`],
        'sleep 30',
      );
      await waitListening(good);
      const open = connect(good, '127.0.0.1');
      await new Promise((r) => open.once('connect', r));
      expect(await exchange(bad, 'x')).toBe('');
      open.end('still here\n');
      const answer = await new Promise<string>((resolve) => {
        let got = '';
        open.on('data', (d: Buffer) => {
          got += d.toString();
        });
        open.on('close', () => resolve(got));
      });
      expect(answer).toBe('echo:still here\n');
      await stopClient(c);
      // The number is the lowest free channel when the connection is accepted: racy against the
      // probe connection of waitListening for both clients (ChannelIds is unit-tested).
      return c.stderr().replace(/^channel \d+:/gm, 'channel N:');
    };
    const ssh = await stderrOf('ssh');
    expect(ssh).toBe('channel N: open failed: connect failed: Connection refused\n');
    expect(await stderrOf(mode)).toBe(ssh);
  });

  it('after the session ends the run waits for an open forwarded connection, then exits with its status', async () => {
    for (const client of ['ssh', mode] as const) await waitsForForwards(client);
  });

  const waitsForForwards = async (client: 'ssh' | Mode): Promise<void> => {
    const stop = `/tmp/sshmux-fwd-stop-${mode}-${client}`;
    const port = await freePort();
    const c = startClient(
      clients,
      client,
      ['-L', `127.0.0.1:${port}:127.0.0.1:${echo.port}`],
      `while [ ! -e ${stop} ]; do sleep 0.1; done; exit 7`,
    );
    await waitListening(port);
    const open = connect(port, '127.0.0.1');
    await new Promise((r) => open.once('connect', r));
    await sshd.sh(`touch ${stop}`);
    // The remote command is gone (the loop saw the file); give the client every chance to leave.
    for (let i = 0; i < 100; i++) {
      const r = await sshd.exec(['pgrep', '-f', stop]);
      if (r.exitCode !== 0) break;
      await new Promise((r2) => setTimeout(r2, 100));
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(c.child.exitCode).toBeNull();
    // The forward still carries bytes; closing it ends the run with the command's status.
    const answer = new Promise<string>((resolve) => {
      let got = '';
      open.on('data', (d: Buffer) => {
        got += d.toString();
      });
      open.on('close', () => resolve(got));
    });
    open.end('late bytes\n');
    expect(await answer).toBe('echo:late bytes\n');
    expect((await c.done).code).toBe(7);
  };

  it('connections reset mid-stream free their channels (regression: ssh2 closes only a drained channel)', async () => {
    const [port, echoPort] = [await freePort(), await freePort()];
    // A server that never answers nor closes: only our side can end these connections.
    const silent = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as { port: number }).port;
    const c = startClient(
      clients,
      mode,
      [
        '-L',
        `127.0.0.1:${port}:127.0.0.1:${silentPort}`,
        '-L',
        `127.0.0.1:${echoPort}:127.0.0.1:${echo.port}`,
      ],
      'sleep 120',
    );
    await waitListening(echoPort);
    // More than the 4 × 10 channel slots: a leaked slot per reset would leave none for the echo.
    for (let i = 0; i < 41; i++) {
      const s = connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('half a request');
      await new Promise((r) => setTimeout(r, 30));
      s.resetAndDestroy();
    }
    const answer = await Promise.race([
      exchange(echoPort, 'after resets\n'),
      new Promise<string>((r) => setTimeout(() => r('no free channel'), 20_000)),
    ]);
    expect(answer).toBe('echo:after resets\n');
    if (mode === 'daemon') {
      // The daemon counts a session per forwarded connection until its channel is closed.
      const endpoint = selectEndpoint({ ...currentEnvironment(), env: clients.sandbox.env() });
      let sessions = -1;
      for (let i = 0; i < 50 && sessions !== 1; i++) {
        const d = await connectDaemon(endpoint, VERSION);
        sessions = (await sendControl(d, { op: 'check' })).sessions;
        if (sessions !== 1) await new Promise((r) => setTimeout(r, 100));
      }
      expect(sessions).toBe(1); // the `sleep 120` session only
    }
    await stopClient(c);
    silent.close();
  }, 90_000);

  it('50 concurrent forwarded connections through one -L share the pooled connections', async () => {
    const port = await freePort();
    const before = await sshd.countLogins();
    const c = startClient(clients, mode, ['-L', `127.0.0.1:${port}:127.0.0.1:${echo.port}`], 'sleep 60');
    await waitListening(port);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(port, `n${i}\n`)));
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => `echo:n${i}\n`));
    const logins = (await sshd.countLogins()) - before;
    // Ten channels per connection (MaxSessions), the session included: at most 5 logins, not 50.
    expect(logins).toBeGreaterThanOrEqual(1);
    expect(logins).toBeLessThanOrEqual(5);
    await stopClient(c);
  });
});

describe.each(MODES)('sshmux ssh -D (%s)', (mode) => {
  const curl = async (flag: string, url: string, port: number): Promise<string> => {
    const r = await import('node:child_process').then(
      ({ execFile }) =>
        new Promise<string>((resolve) =>
          execFile(
            'curl',
            ['-s', '--max-time', '10', '--http0.9', flag, `127.0.0.1:${port}`, url],
            (_e, stdout) => resolve(stdout),
          ),
        ),
    );
    return r;
  };

  it('SOCKS5 with remote name resolution, SOCKS4A and SOCKS4, to the container sshd', async () => {
    const port = await freePort();
    const c = startClient(clients, mode, ['-D', `127.0.0.1:${port}`], 'sleep 30');
    await waitListening(port);
    const banner = /^SSH-2\.0-OpenSSH_9\.2/;
    // Only the container knows this name: resolved on the server side, as ssh does.
    expect(await curl('--socks5-hostname', `http://${REMOTE_ONLY}:${sshd.port}/`, port)).toMatch(banner);
    expect(await curl('--socks4a', `http://${REMOTE_ONLY}:${sshd.port}/`, port)).toMatch(banner);
    expect(await curl('--socks5', `http://127.0.0.1:${sshd.port}/`, port)).toMatch(banner);
    expect(await curl('--socks4', `http://127.0.0.1:${sshd.port}/`, port)).toMatch(banner);
    await stopClient(c);
  });

  it('an unknown SOCKS version or a truncated request is dropped; a connection in use goes on', async () => {
    const port = await freePort();
    const c = startClient(clients, mode, ['-D', `127.0.0.1:${port}`], 'sleep 30');
    await waitListening(port);
    const live = connect(port, '127.0.0.1');
    await new Promise((r) => live.once('connect', r));
    const host = Buffer.from(`127.0.0.1`);
    live.write(Buffer.concat([Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length]), host]));
    live.write(Buffer.from([echo.port >> 8, echo.port & 0xff]));
    expect(await exchange(port, 'GET / HTTP/1.0\r\n\r\n')).toBe('');
    expect(await exchange(port, Buffer.from([5, 1, 0, 5, 1]))).toBe('\x05\x00');
    live.end('after bad ones\n');
    const got = await new Promise<string>((resolve) => {
      let s = '';
      live.on('data', (d: Buffer) => {
        s += d.toString('latin1');
      });
      live.on('close', () => resolve(s));
    });
    expect(got.slice(2 + 10)).toBe('echo:after bad ones\n');
    await stopClient(c);
  });
});

describe.each(MODES)('sshmux ssh -W (%s)', (mode) => {
  it('is the ProxyCommand of OpenSSH ssh and of sshmux ssh', async () => {
    // ssh runs `exec ProxyCommand`: an environment assignment needs env(1).
    const env = mode === 'direct' ? 'env SSHMUX_NO_DAEMON=1 ' : '';
    const proxy = `ProxyCommand=${env}${process.execPath} ${CLI} ssh -F ${clients.config} -W %h:%p target`;
    const before = await sshd.countLogins();
    const ssh = await clients.run('ssh', ['-o', proxy], 'echo through-ssh');
    expect(ssh).toMatchObject({ code: 0, stdout: 'through-ssh\n' });
    const ours = await clients.run(mode, ['-o', proxy], 'echo through-sshmux');
    expect(ours).toMatchObject({ code: 0, stdout: 'through-sshmux\n' });
    // Each run: one login through the hop. The hop's own login is made per run in-process; through
    // the daemon it is shared (at most one, none when the daemon's pool is still connected).
    const logins = (await sshd.countLogins()) - before;
    if (mode === 'direct') expect(logins).toBe(4);
    else expect([2, 3]).toContain(logins);
  });

  it("a refused target: ssh's two lines and 255; -W IPv6 literal accepted as ssh parses it", async () => {
    const port = await freePort();
    const ssh = await clients.run('ssh', ['-W', `127.0.0.1:${port}`], undefined);
    const ours = await clients.run(mode, ['-W', `127.0.0.1:${port}`], undefined);
    expect(ssh).toMatchObject({
      code: 255,
      stderr: 'channel 0: open failed: connect failed: Connection refused\nstdio forwarding failed\n',
    });
    expect(ours).toMatchObject({ code: 255, stderr: ssh.stderr });
    const six = await clients.run(mode, ['-W', `[::1]:${port}`], undefined);
    expect(six).toMatchObject({
      code: 255,
      stderr: (await clients.run('ssh', ['-W', `[::1]:${port}`], undefined)).stderr,
    });
  });

  it('-W runs LocalCommand (PermitLocalCommand yes) as ssh does', async () => {
    const args = [
      '-o',
      'PermitLocalCommand=yes',
      '-o',
      'LocalCommand=echo local-%h >&2',
      '-W',
      `127.0.0.1:${echo.port}`,
    ];
    const ssh = await clients.run('ssh', args, undefined, {}, { input: 'x\n' });
    const ours = await clients.run(mode, args, undefined, {}, { input: 'x\n' });
    expect(ssh).toMatchObject({ code: 0, stdout: 'echo:x\n', stderr: 'local-127.0.0.1\n' });
    expect(ours).toMatchObject({ code: 0, stdout: ssh.stdout, stderr: ssh.stderr });
  });

  it('-W /socket reaches a Unix socket on the server (direct-streamlocal)', async () => {
    const r = await clients.run(mode, ['-W', REMOTE_SOCKET], undefined, {}, { input: 'over stdio\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'unix:over stdio\n', stderr: '' });
  });

  it('relays stdin to the target and its answer to stdout, ending with the channel', async () => {
    const r = await clients.run(
      mode,
      ['-W', `127.0.0.1:${echo.port}`],
      undefined,
      {},
      { input: 'stdio bytes\n' },
    );
    expect(r).toMatchObject({ code: 0, stdout: 'echo:stdio bytes\n', stderr: '' });
  });
});
