import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HostConfig } from '../../src/config/host-config.js';
import { plainHostConfig } from '../../src/config/plain.js';
import { Connection } from '../../src/connection/connection.js';
import { defaultHopResolver, proxyJumpSocketFactory } from '../../src/connection/proxy-jump.js';
import { HostKeyError, NetworkError } from '../../src/errors.js';
import { createAuthProvider } from '../../src/security/auth.js';
import { createHostKeyVerifier } from '../../src/security/verify-host-key.js';
import { freePort, type StartedSshd, startSshd } from '../helpers/sshd.js';

/**
 * The topology. The harness container shares the host's network, so anything its main sshd
 * can reach, this process can reach too. The inner sshd therefore lives in a network namespace
 * of its own (loopback only). The jump host accepts TCP in the host namespace (a small perl
 * inetd) but runs each `sshd -i` session inside the inner namespace, so its direct-tcpip
 * forwards reach the inner sshd, and nothing else does.
 */
const INETD = `
use strict; use IO::Socket::INET;
my ($port, $nspid) = @ARGV;
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16, ReuseAddr => 1)
  or die "listen: $!";
$SIG{CHLD} = 'IGNORE';
while (1) {
  my $c = $l->accept or next;
  my $pid = fork;
  if (defined $pid && $pid == 0) {
    close $l;
    open(STDIN, '<&', $c) or die; open(STDOUT, '>&', $c) or die;
    exec('nsenter', "--net=/proc/$nspid/ns/net", '/usr/sbin/sshd', '-i', '-E', '/var/log/sshd-jump.log') or die;
  }
  close $c;
}
`;

let sshd: StartedSshd;
let jumpPort: number;
let innerPort: number;
let knownHosts: string;

beforeAll(async () => {
  sshd = await startSshd();
  jumpPort = await freePort();
  innerPort = await freePort(); // free on the host: a direct connection must find nothing there
  const script = Buffer.from(INETD).toString('base64');
  await sshd.sh(
    [
      // A user+network namespace owned by root: root outside it keeps all capabilities in it.
      'unshare -U -n sleep 1000000 </dev/null >/dev/null 2>&1 & echo $! > /run/inner-ns.pid',
      'sleep 0.3; P=$(cat /run/inner-ns.pid)',
      'nsenter --net=/proc/$P/ns/net ip link set lo up',
      `nsenter --net=/proc/$P/ns/net /usr/sbin/sshd -o ListenAddress=127.0.0.1 -p ${innerPort} -o PidFile=/run/sshd-inner.pid -E /var/log/sshd-inner.log`,
      `echo ${script} | base64 -d > /usr/local/sbin/jump-inetd.pl`,
      `perl /usr/local/sbin/jump-inetd.pl ${jumpPort} $P </dev/null >/var/log/jump-inetd.log 2>&1 &`,
      `for i in $(seq 50); do ss -ltn | grep -q ":${jumpPort} " && break; sleep 0.1; done`,
      `ss -ltn | grep -q ":${jumpPort} "`,
      `nsenter --net=/proc/$P/ns/net ss -ltn | grep -q "127.0.0.1:${innerPort} "`,
    ].join('\n'),
  );
  knownHosts = path.join(sshd.tmpDir, 'jump', 'known_hosts');
  mkdirSync(path.dirname(knownHosts), { recursive: true });
  writeFileSync(
    knownHosts,
    [jumpPort, innerPort].flatMap((p) => sshd.hostKeys.map((k) => `[127.0.0.1]:${p} ${k}\n`)).join(''),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await sshd?.stop();
});

function target(extra: Partial<HostConfig> = {}): HostConfig {
  const base = plainHostConfig({
    host: '127.0.0.1',
    port: innerPort,
    user: 'root',
    identityFiles: [sshd.keyPath],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [knownHosts],
  });
  return {
    ...base,
    globalKnownHostsFiles: [],
    identityAgent: 'none',
    proxyJump: [`root@127.0.0.1:${jumpPort}`],
    ...extra,
  };
}

const hostKeyVerifier = createHostKeyVerifier();
const authProvider = createAuthProvider({ env: {} });

async function run(c: Connection, command: string): Promise<string> {
  const ch = await c.exec(command);
  let out = '';
  ch.on('data', (d: Buffer) => {
    out += d.toString();
  });
  ch.stderr.resume();
  await new Promise((resolve) => ch.on('close', resolve));
  return out.trim();
}

async function jumpDisconnects(): Promise<number> {
  const r = await sshd.exec(['grep', '-c', 'Disconnected from user root', '/var/log/sshd-jump.log']);
  return Number.parseInt(r.stdout.trim() || '0', 10);
}

describe('ProxyJump', () => {
  it('cannot reach the inner sshd directly', async () => {
    const c = new Connection({ ...target(), proxyJump: [] }, { hostKeyVerifier, authProvider });
    const err = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    c.close();
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('reaches it through the jump host, and closes the hop when the final connection closes', async () => {
    const resolve = vi.fn(defaultHopResolver);
    const c = new Connection(target(), {
      hostKeyVerifier,
      authProvider,
      socketFactory: proxyJumpSocketFactory({ hostKeyVerifier, authProvider, resolve }),
    });
    const before = await jumpDisconnects();
    await c.connect();
    expect(resolve).toHaveBeenCalledWith(
      `root@127.0.0.1:${jumpPort}`,
      expect.objectContaining({ port: innerPort }),
    );
    // SSH_CONNECTION = client address, client port, server address, server port: we are on the inner sshd.
    expect((await run(c, 'echo $SSH_CONNECTION')).split(' ')[3]).toBe(String(innerPort));
    c.close();
    for (let i = 0; i < 50 && (await jumpDisconnects()) === before; i++) await sleep(100);
    expect(await jumpDisconnects()).toBe(before + 1);
  });

  it("verifies each hop's host key under the hop's own name", async () => {
    const onlyInner = path.join(sshd.tmpDir, 'jump', 'only_inner');
    writeFileSync(onlyInner, sshd.hostKeys.map((k) => `[127.0.0.1]:${innerPort} ${k}\n`).join(''));
    const host = target({ userKnownHostsFiles: [onlyInner] });
    const c = new Connection(host, {
      hostKeyVerifier,
      authProvider,
      socketFactory: proxyJumpSocketFactory({ hostKeyVerifier, authProvider }),
    });
    const err = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    c.close();
    expect(err).toBeInstanceOf(HostKeyError);
    expect((err as Error).message).toContain(`[127.0.0.1]:${jumpPort}`);
  });
});
