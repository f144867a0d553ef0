import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { startClient, stopClient } from './forward-clients.js';
import { ask, EchoServer, freePort, LiveRun, remoteAsk, remoteAskUnix } from './forward-helpers.js';

// -R and RemoteForward, each run through /usr/bin/ssh (OpenSSH 9.2) and sshmux on the same config
// and argv. The remote command itself uses the forward from inside the container, so what it
// prints is what crossed the server's listener, the SSH channel and our local connection.
let sshd: StartedSshd;
let clients: AuthClients;
const MODES: Mode[] = ['direct', 'daemon'];

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
});

afterAll(async () => {
  await clients?.cleanup();
  await sshd?.stop();
});

/** Remote listeners sshd holds on `port` right now. */
async function remoteListening(port: number): Promise<boolean> {
  const r = await sshd.exec(['sh', '-c', `ss -Hltn 'sport = :${port}'`]);
  return r.stdout.trim() !== '';
}

describe.each(MODES)('remote forwarding as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it('-R port:host:hostport carries a connection made on the server to our local server', async () => {
    await using target = await EchoServer.start();
    for (const client of ['ssh', mode] as const) {
      const rport = await freePort();
      const r = await clients.run(client, ['-R', `${rport}:127.0.0.1:${target.port}`], remoteAsk(rport));
      expect(r, client).toMatchObject({ code: 0, stdout: 'got:hello\n', stderr: '' });
      // The forward was cancelled with the session (the daemon's connection lives on).
      expect(await remoteListening(rport)).toBe(false);
    }
    expect(target.accepted).toBe(2);
  });

  it('-N -R: no session; a connection made on the server reaches us until SIGTERM, exit 0 as ssh', async () => {
    await using target = await EchoServer.start();
    const results = [];
    for (const client of ['ssh', mode] as const) {
      const rport = await freePort();
      const c = startClient(
        clients,
        client,
        ['-N', '-R', `127.0.0.1:${rport}:127.0.0.1:${target.port}`],
        undefined,
      );
      for (let i = 0; i < 100 && !(await remoteListening(rport)); i++) await sleep(100);
      const r = await sshd.exec(['bash', '-c', remoteAsk(rport)]);
      expect(r.stdout, client).toBe('got:hello\n');
      await stopClient(c);
      results.push(await c.done);
      expect(await remoteListening(rport)).toBe(false);
    }
    expect(results[0]).toMatchObject({ code: 0, stdout: '' });
    expect(results[1]).toEqual(results[0]);
  });

  it('RemoteForward from the configuration, with a bind address', async () => {
    await using target = await EchoServer.start();
    const rport = await freePort();
    const args = ['-o', `RemoteForward=127.0.0.1:${rport} 127.0.0.1:${target.port}`];
    const ssh = await clients.run('ssh', args, remoteAsk(rport));
    const ours = await clients.run(mode, args, remoteAsk(rport));
    expect(ssh).toMatchObject({ code: 0, stdout: 'got:hello\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'got:hello\n', stderr: ssh.stderr });
  });

  it('-R port:/local/socket and -R /remote/socket:host:port and -R /remote/socket:/local/socket', async () => {
    const local = path.join(clients.sandbox.runtimeDir, `t-${mode}.sock`);
    await using unixTarget = await EchoServer.start({ path: local });
    await using tcpTarget = await EchoServer.start();
    for (const client of ['ssh', mode] as const) {
      const rport = await freePort();
      const toUnix = await clients.run(client, ['-R', `${rport}:${local}`], remoteAsk(rport));
      expect(toUnix, client).toMatchObject({ code: 0, stdout: 'got:hello\n' });
      const remote = `/tmp/rfwd-${mode}-${client}-${rport}.sock`;
      const fromUnix = await clients.run(
        client,
        ['-R', `${remote}:127.0.0.1:${tcpTarget.port}`],
        remoteAskUnix(remote),
      );
      expect(fromUnix, client).toMatchObject({ code: 0, stdout: 'got:hello\n' });
      const both = await clients.run(client, ['-R', `${remote}.2:${local}`], remoteAskUnix(`${remote}.2`));
      expect(both, client).toMatchObject({ code: 0, stdout: 'got:hello\n' });
    }
    expect(unixTarget.accepted).toBe(4);
    expect(tcpTarget.accepted).toBe(2);
  });

  it('port 0: "Allocated port N for remote forward to host:port", and N forwards', async () => {
    await using target = await EchoServer.start();
    const lines: string[] = [];
    for (const client of ['ssh', mode] as const) {
      const run = new LiveRun(clients, client, ['-R', `0:127.0.0.1:${target.port}`], 'sleep 3');
      const m = await run.waitFor(/^Allocated port (\d+) for remote forward to 127\.0\.0\.1:(\d+)\n/m);
      expect(await ask(Number(m[1]), client)).toBe(`got:${client}\n`);
      expect(await run.done).toBe(0);
      lines.push(run.stderr.replace(/port \d+ for/, 'port N for'));
    }
    expect(lines[1]).toBe(lines[0]);
    expect(lines[0]).toBe(`Allocated port N for remote forward to 127.0.0.1:${target.port}\n`);
  });

  it("a port taken on the server: ssh's warning and the session runs; ExitOnForwardFailure: error, 255", async () => {
    await using target = await EchoServer.start();
    // The container shares this machine's network: a port we hold is taken for sshd.
    await using taken = await EchoServer.start();
    // 127.0.0.1 only: `localhost` would also bind ::1, which nobody holds.
    const args = ['-R', `127.0.0.1:${taken.port}:127.0.0.1:${target.port}`];
    const ssh = await clients.run('ssh', args, 'echo ran');
    const ours = await clients.run(mode, args, 'echo ran');
    expect(ssh).toMatchObject({
      code: 0,
      stdout: 'ran\n',
      stderr: `Warning: remote port forwarding failed for listen port ${taken.port}\n`,
    });
    expect(ours).toMatchObject({ code: 0, stdout: 'ran\n', stderr: ssh.stderr });
    const fatal = [...args, '-o', 'ExitOnForwardFailure=yes'];
    const sshFatal = await clients.run('ssh', fatal, 'sleep 1');
    const oursFatal = await clients.run(mode, fatal, 'sleep 1');
    expect(sshFatal).toMatchObject({
      code: 255,
      stderr: `Error: remote port forwarding failed for listen port ${taken.port}\n`,
    });
    expect(oursFatal).toMatchObject({ code: 255, stdout: '', stderr: sshFatal.stderr });
    // -q silences both, as it silences ssh.
    expect(await clients.run(mode, [...args, '-q'], 'echo ran')).toMatchObject({
      stderr: '',
      stdout: 'ran\n',
    });
  });

  it("a local target that refuses: ssh's line, that channel closed, the other forward unaffected", async () => {
    await using target = await EchoServer.start();
    const closed = await freePort();
    for (const client of ['ssh', mode] as const) {
      const [r1, r2] = [await freePort(), await freePort()];
      const args = ['-R', `${r1}:127.0.0.1:${closed}`, '-R', `${r2}:127.0.0.1:${target.port}`];
      const command = `(${remoteAsk(r1)}) 2>/dev/null; echo "first: $?"; ${remoteAsk(r2)}`;
      const r = await clients.run(client, args, command);
      expect(r, client).toMatchObject({
        code: 0,
        stdout: 'first: 1\ngot:hello\n',
        stderr: `connect_to 127.0.0.1 port ${closed}: failed.\n`,
      });
    }
  });

  it("a local socket target that does not exist: ssh's line, the session goes on", async () => {
    const missing = path.join(clients.sandbox.runtimeDir, 'missing.sock');
    const lines: string[] = [];
    for (const client of ['ssh', mode] as const) {
      const rport = await freePort();
      const r = await clients.run(
        client,
        ['-R', `${rport}:${missing}`],
        `(${remoteAsk(rport)}) 2>/dev/null; echo "rc=$?"`,
      );
      // The server accepted the connection before we refused it: what the remote reads is EOF or a reset.
      expect(r.code, client).toBe(0);
      expect(r.stdout, client).toMatch(/^rc=[01]\n$/);
      lines.push(r.stderr);
    }
    expect(lines[0]).toBe(`connect to ${missing} port -2 failed: No such file or directory\n`);
    expect(lines[1]).toBe(lines[0]);
  });

  it('20 connections at once, megabytes each way, every byte through (credit flow on the daemon path)', async () => {
    const size = 3 * 1024 * 1024;
    // source: sends `size` bytes and closes; sink: answers how many bytes it got once it has them all.
    const source = net.createServer((sock) => sock.end(Buffer.alloc(size, 7)));
    const sink = net.createServer((sock) => {
      let got = 0;
      sock.on('data', (d: Buffer) => {
        got += d.length;
        if (got === size) sock.end(`${got}\n`);
      });
      sock.on('error', () => {});
    });
    await Promise.all(
      [source, sink].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))),
    );
    const port = (srv: net.Server) => (srv.address() as net.AddressInfo).port;
    try {
      const [rs, rk] = [await freePort(), await freePort()];
      const one =
        `(exec 3<>/dev/tcp/127.0.0.1/${rs}; wc -c <&3) & ` +
        `(exec 3<>/dev/tcp/127.0.0.1/${rk}; head -c ${size} /dev/zero >&3; head -1 <&3) & `;
      const command = `${one.repeat(10)}wait`;
      const r = await clients.run(
        mode,
        ['-R', `${rs}:127.0.0.1:${port(source)}`, '-R', `${rk}:127.0.0.1:${port(sink)}`],
        command,
      );
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim());
      expect(lines).toEqual(Array(20).fill(String(size)));
    } finally {
      await Promise.all([source, sink].map((srv) => new Promise<void>((r) => srv.close(() => r()))));
    }
  });

  it('the remote dynamic form (-R port): SOCKS4 and SOCKS5 from the server to our local server, PermitRemoteOpen', async () => {
    await using target = await EchoServer.start();
    const hex = (n: number) =>
      `\\x${(n >> 8).toString(16).padStart(2, '0')}\\x${(n & 0xff).toString(16).padStart(2, '0')}`;
    // The remote command is the SOCKS client: byte by byte (dd), so the reply and the echo stay apart.
    const reply = (n: number) => `dd bs=1 count=${n} <&3 2>/dev/null | od -An -tx1 | tr -d ' \\n'; echo`;
    const socks4 = (rport: number) =>
      `exec 3<>/dev/tcp/127.0.0.1/${rport} && printf '\\x04\\x01${hex(target.port)}\\x7f\\x00\\x00\\x01\\x00' >&3 && ` +
      `${reply(8)} && echo hello >&3 && head -1 <&3`;
    const socks5 = (rport: number) =>
      `exec 3<>/dev/tcp/127.0.0.1/${rport} && printf '\\x05\\x01\\x00' >&3 && ${reply(2)} && ` +
      `printf '\\x05\\x01\\x00\\x03\\x09localhost${hex(target.port)}' >&3 && ${reply(10)} && echo hello >&3 && head -1 <&3`;
    for (const [name, ask] of [
      ['socks4', socks4],
      ['socks5', socks5],
    ] as const) {
      const results = [];
      for (const client of ['ssh', mode] as const) {
        const rport = await freePort();
        results.push(await clients.run(client, ['-R', `127.0.0.1:${rport}`], ask(rport)));
      }
      expect(results[0], name).toMatchObject({ code: 0, stderr: '' });
      expect(results[0]!.stdout, name).toMatch(/got:hello\n$/);
      // The same bytes back (the SOCKS replies included) and the same status as OpenSSH's.
      expect(results[1], name).toEqual(results[0]);
    }
    expect(target.accepted).toBe(4);
    // PermitRemoteOpen lists where it may connect: another port is not, so the channel just closes.
    const denied = [];
    for (const client of ['ssh', mode] as const) {
      const rport = await freePort();
      const args = [
        '-o',
        `PermitRemoteOpen=127.0.0.1:${target.port + 1} localhost:*`,
        '-R',
        `127.0.0.1:${rport}`,
      ];
      denied.push(await clients.run(client, args, `${socks4(rport)}; echo rc=$?`));
    }
    // No SOCKS reply and no echo: the channel was closed before anything came back.
    expect(denied[0]!.stdout).toBe('\nrc=0\n');
    expect(denied[1]).toEqual(denied[0]);
    expect(target.accepted).toBe(4);
  });
});

describe('remote forwards of sessions sharing the daemon', () => {
  it('each session gets its own connections; the same port twice is refused to the second, as sshd would', async () => {
    await using a = await EchoServer.start();
    await using b = await EchoServer.start();
    const [ra, rb] = [await freePort(), await freePort()];
    const before = await sshd.countLogins();
    const first = new LiveRun(clients, 'daemon', ['-R', `${ra}:127.0.0.1:${a.port}`], 'sleep 4');
    const second = new LiveRun(clients, 'daemon', ['-R', `${rb}:127.0.0.1:${b.port}`], 'sleep 4');
    await waitListening(ra);
    await waitListening(rb);
    expect(await ask(ra, 'to-a')).toBe('got:to-a\n');
    expect(await ask(rb, 'to-b')).toBe('got:to-b\n');
    const clash = await clients.run('daemon', ['-R', `${ra}:127.0.0.1:${b.port}`], 'echo ran');
    expect(clash).toMatchObject({
      code: 0,
      stdout: 'ran\n',
      stderr: `Warning: remote port forwarding failed for listen port ${ra}\n`,
    });
    expect(await ask(ra, 'still-a')).toBe('got:still-a\n');
    expect([await first.done, await second.done]).toEqual([0, 0]);
    expect([a.accepted, b.accepted]).toEqual([2, 1]);
    // Three clients, their listeners, their sessions: all on the daemon's pooled connection.
    expect(await sshd.countLogins()).toBeLessThanOrEqual(before + 1);
  });
});

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200 && !(await remoteListening(port)); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('a server that allows no forwarding (AllowTcpForwarding, AllowStreamLocalForwarding, AllowAgentForwarding no)', () => {
  let strict: StartedSshd;
  let strictClients: AuthClients;
  let agent: ChildProcess;
  let agentSock: string;
  beforeAll(async () => {
    strict = await startSshd({
      sshdOptions: ['AllowTcpForwarding=no', 'AllowStreamLocalForwarding=no', 'AllowAgentForwarding=no'],
    });
    strictClients = new AuthClients(strict);
    agentSock = path.join(strictClients.sandbox.runtimeDir, 'test.agent');
    agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(agentSock); i++) await sleep(20);
  });
  afterAll(async () => {
    agent?.kill();
    await strictClients?.cleanup();
    await strict?.stop();
  });

  it.each(MODES)(
    'refuses -R as ssh reports it, and -A leaves the session without an agent (sshmux %s)',
    async (mode) => {
      const rport = await freePort();
      const remote = `/tmp/strict-${mode}.sock`;
      const args = [
        '-R',
        `${rport}:127.0.0.1:9`,
        '-R',
        `${remote}:127.0.0.1:9`,
        '-A',
        '-o',
        'IdentityAgent=SSH_AUTH_SOCK',
      ];
      const env = { SSH_AUTH_SOCK: agentSock };
      const command = 'echo "ran sock=$SSH_AUTH_SOCK"';
      const ssh = await strictClients.run('ssh', args, command, env);
      const ours = await strictClients.run(mode, args, command, env);
      expect(ssh).toMatchObject({
        code: 0,
        stdout: 'ran sock=\n',
        stderr:
          `Warning: remote port forwarding failed for listen port ${rport}\n` +
          `Warning: remote port forwarding failed for listen path ${remote}\n`,
      });
      expect(ours).toMatchObject({ code: 0, stdout: ssh.stdout, stderr: ssh.stderr });
    },
  );
});
