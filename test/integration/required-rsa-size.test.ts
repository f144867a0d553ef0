import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../src/config/plain.js';
import { silentLogger } from '../../src/logger.js';
import type { AuthReport } from '../../src/security/auth-report.js';
import { publicKeyMethods } from '../../src/security/public-key-turns.js';
import { rsaModulusBits } from '../../src/security/rsa-size.js';
import { runProgram } from '../helpers/cli.js';
import { CLI } from './mux-helpers.js';

/**
 * RequiredRSASize against OpenSSH: a server whose only host key is a 1536-bit RSA key passes the
 * default (1024) and is refused under RequiredRSASize=2048 by both clients with the same words; a
 * 768-bit one is below OpenSSH's floor whatever the setting; and a short user key is skipped.
 */
function rsaPem(bits: number): string {
  return generateKeyPairSync('rsa', { modulusLength: bits })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString();
}
const smallPem = rsaPem(768);
const midPem = rsaPem(1536);

async function startServer(pem: string): Promise<{ server: ssh2.Server; port: number }> {
  const server = new ssh2.Server({ hostKeys: [pem] }, (client) => {
    client.on('authentication', (ctx) => ctx.reject(['publickey']));
    client.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function run(file: string, args: string[]) {
  return runProgram(file, args, { env: { ...process.env, SSHMUX_NO_DAEMON: '1' } });
}

describe('RequiredRSASize as OpenSSH', () => {
  const servers: ssh2.Server[] = [];
  let small: number;
  let mid: number;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-rsa-'));
    for (const [pem, set] of [
      [smallPem, (p: number) => (small = p)],
      [midPem, (p: number) => (mid = p)],
    ] as const) {
      const { server, port } = await startServer(pem);
      servers.push(server);
      set(port);
    }
  });
  afterAll(() => {
    for (const s of servers) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const args = (port: number, extra: string[] = []) => [
    '-F',
    'none',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    `UserKnownHostsFile=${path.join(dir, 'kh')}`,
    '-o',
    'BatchMode=yes',
    ...extra,
    '-p',
    String(port),
    'nobody@127.0.0.1',
    'true',
  ];
  const both = async (port: number, extra: string[] = []) => ({
    ssh: await run('/usr/bin/ssh', args(port, extra)),
    ours: await run(process.execPath, [CLI, 'ssh', ...args(port, extra)]),
  });

  it('the modulus size is read from the key blob', () => {
    const blob = ssh2.utils.parseKey(smallPem) as ssh2.ParsedKey;
    expect(rsaModulusBits(blob.getPublicSSH())).toBe(768);
    const ed = ssh2.utils.generateKeyPairSync('ed25519');
    expect(rsaModulusBits((ssh2.utils.parseKey(ed.public) as ssh2.ParsedKey).getPublicSSH())).toBe(undefined);
  });

  it('a 1536-bit RSA host key passes the default and fails RequiredRSASize=2048, in both clients', async () => {
    const passes = await both(mid);
    expect(passes.ssh.stderr).toMatch(/Permission denied/);
    expect(passes.ours.stderr).toMatch(/Permission denied/);
    const refused = await both(mid, ['-o', 'RequiredRSASize=2048']);
    expect(refused.ssh.stderr).toMatch(/Bad server host key: Invalid key length/);
    expect(refused.ours.stderr).toMatch(/Bad server host key: Invalid key length/);
    expect([refused.ssh.code, refused.ours.code]).toEqual([255, 255]);
  });

  it('a 768-bit RSA host key is refused by both, even with RequiredRSASize=512', async () => {
    const r = await both(small, ['-o', 'RequiredRSASize=512']);
    expect(r.ssh.stderr).toMatch(/Invalid key length/);
    expect(r.ours.stderr).toMatch(/Invalid key length/);
    expect([r.ssh.code, r.ours.code]).toEqual([255, 255]);
  });

  it('a 1536-bit RSA user key is skipped under RequiredRSASize=2048, offered under the default', async () => {
    const file = path.join(dir, 'id_mid');
    writeFileSync(file, midPem, { mode: 0o600 });
    const host = { ...plainHostConfig({ host: 'h', identityFiles: [file] }), identityAgent: 'none' };
    const context = {
      log: silentLogger(),
      env: {},
      platform: process.platform,
      openAgent: (): never => {
        throw new Error('no agent');
      },
      passphrase: undefined,
      withoutDeadline: <T>(work: () => Promise<T>) => work(),
    };
    const report: AuthReport = { started: false, tried: [], notes: [], user: 'u', host: 'h' };
    const turns = await publicKeyMethods({ ...host, requiredRsaSize: 2048 }, report, context);
    expect(turns).toHaveLength(1);
    expect(await turns[0]!()).toBeUndefined();
    expect(report.notes.join('\n')).toMatch(/Skipping key .*id_mid: Invalid key length/);
    const allowed = await publicKeyMethods(host, report, context);
    expect(await allowed[0]!()).toMatchObject({ type: 'publickey' });
  });
});
