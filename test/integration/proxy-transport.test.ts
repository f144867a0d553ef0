import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLIENTS, type Client, runClient } from './proxy-clients.js';

/**
 * The transport keywords, differentially against /usr/bin/ssh: AddressFamily (-4/-6) against
 * a second sshd listening on ::1 only, BindAddress (-b) as the server sees it, and
 * ConnectionAttempts against a port that opens only after the first attempt failed.
 */
let sshd: StartedSshd;
let dir: string;
let home: string;
let v6Port: number;
let known: string;

function env(client: Client): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: path.join(dir, `run-${client}`),
    SSH_AUTH_SOCK: '',
    SSHMUX_NO_DAEMON: '1',
  };
  return e;
}

const common = (): string[] => [
  '-F',
  'none',
  '-i',
  sshd.keyPath,
  '-o',
  `UserKnownHostsFile=${known}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-l',
  'root',
];

beforeAll(async () => {
  sshd = await startSshd();
  v6Port = await freePort();
  await sshd.sh(
    [
      `/usr/sbin/sshd -o ListenAddress=::1 -p ${v6Port} -o PidFile=/run/sshd-v6.pid -E /var/log/sshd-v6.log`,
      `for i in $(seq 50); do ss -ltn | grep -q "\\[::1\\]:${v6Port} " && break; sleep 0.1; done`,
      `ss -ltn | grep -q "\\[::1\\]:${v6Port} "`,
    ].join('\n'),
  );
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-transport-'));
  home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  for (const c of CLIENTS) mkdirSync(path.join(dir, `run-${c}`), { mode: 0o700 });
  known = path.join(dir, 'known_hosts');
  writeFileSync(
    known,
    sshd.hostKeys.flatMap((k) => [`[127.0.0.1]:${sshd.port} ${k}\n`, `[::1]:${v6Port} ${k}\n`]).join(''),
  );
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(CLIENTS)('transport keywords with %s', (client) => {
  it('-6 reaches the sshd that listens on ::1 only; SSH_CONNECTION shows IPv6', async () => {
    const r = await runClient(
      client,
      [...common(), '-6', '-p', String(v6Port), '::1', 'echo $SSH_CONNECTION'],
      {
        env: env(client),
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString().split(' ')[2]).toBe('::1');
  });

  it('-4 (and AddressFamily=inet) refuses the IPv6 address, as ssh', async () => {
    for (const family of [['-4'], ['-o', 'AddressFamily=inet']]) {
      const r = await runClient(client, [...common(), ...family, '-p', String(v6Port), '::1', 'true'], {
        env: env(client),
      });
      expect(r.code).toBe(255);
      expect(r.stderr).toContain('Could not resolve hostname ::1: Address family for hostname not supported');
    }
  });

  it('AddressFamily=inet6 refuses an IPv4 address', async () => {
    const r = await runClient(
      client,
      [...common(), '-o', 'AddressFamily=inet6', '-p', String(sshd.port), '127.0.0.1', 'true'],
      { env: env(client) },
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(
      'Could not resolve hostname 127.0.0.1: Address family for hostname not supported',
    );
  });

  it('-b / BindAddress is the local address the server sees', async () => {
    for (const bind of [
      ['-b', '127.0.0.2'],
      ['-o', 'BindAddress=127.0.0.3'],
    ]) {
      const r = await runClient(
        client,
        [...common(), ...bind, '-p', String(sshd.port), '127.0.0.1', 'echo $SSH_CONNECTION'],
        {
          env: env(client),
        },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString().split(' ')[0]).toBe(bind[1]!.replace('BindAddress=', ''));
    }
  });

  it('-B / BindInterface binds to an address of that interface; an unknown one fails', async () => {
    const lo = await runClient(
      client,
      [...common(), '-B', 'lo', '-p', String(sshd.port), '127.0.0.1', 'echo $SSH_CONNECTION'],
      {
        env: env(client),
      },
    );
    expect(lo.code).toBe(0);
    expect(lo.stdout.toString().split(' ')[0]).toBe('127.0.0.1');
    const none = await runClient(
      client,
      [...common(), '-o', 'BindInterface=nosuch0', '-p', String(sshd.port), '127.0.0.1', 'true'],
      { env: env(client) },
    );
    expect(none.code).toBe(255);
    expect(none.stderr).toContain('getifaddrs: nosuch0: no suitable addresses');
  });

  it('ConnectionAttempts retries 1 s apart and connects once the port opens', async () => {
    const port = await freePort();
    writeFileSync(known, sshd.hostKeys.map((k) => `[127.0.0.1]:${port} ${k}\n`).join(''), { flag: 'a' });
    const child = runClient(
      client,
      [...common(), '-o', 'ConnectionAttempts=4', '-p', String(port), '127.0.0.1', 'echo through'],
      { env: env(client) },
    );
    // The first attempt is refused; a relay to the sshd appears 1.5 s later.
    await sleep(1_500);
    const relay = net.createServer((c) => {
      const up = net.connect({ host: '127.0.0.1', port: sshd.port });
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
    const r = await child;
    relay.close();
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('through\n');
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1_900);
  });

  it('ConnectionAttempts=3 on a closed port: 255 after two pauses', async () => {
    const port = await freePort();
    const r = await runClient(
      client,
      [...common(), '-o', 'ConnectionAttempts=3', '-p', String(port), '127.0.0.1', 'true'],
      {
        env: env(client),
      },
    );
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/refused/i);
    expect(r.ms).toBeGreaterThanOrEqual(1_900);
    expect(r.ms).toBeLessThan(6_000);
  });
});
