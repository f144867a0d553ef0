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
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { startJumpTopology } from './jump-topology.js';

let sshd: StartedSshd;
let jumpPort: number;
let innerPort: number;
let knownHosts: string;

beforeAll(async () => {
  sshd = await startSshd();
  ({ jumpPort, innerPort } = await startJumpTopology(sshd));
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
