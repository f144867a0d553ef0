import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { silentLogger } from '../../../src/logger.js';
import { fingerprintSha256 } from '../../../src/security/fingerprint.js';
import { hostFieldMatches } from '../../../src/security/known-hosts.js';
import { updateHostKeys } from '../../../src/security/update-host-keys.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const b = Buffer.from(body);
  const out = Buffer.alloc(8 + t.length + b.length);
  out.writeUInt32BE(t.length, 0);
  t.copy(out, 4);
  out.writeUInt32BE(b.length, 4 + t.length);
  b.copy(out, 8 + t.length);
  return out;
}
const ed = blob('ssh-ed25519', 'the-servers-ed25519-key-32-bytes');
const rsa = blob('ssh-rsa', 'the-servers-rsa-key');
const ecdsa = blob('ecdsa-sha2-nistp256', 'the-servers-ecdsa-key');
const cert = blob('ssh-ed25519-cert-v01@openssh.com', 'a-certificate');
const gone = blob('ssh-ed25519', 'a-key-the-server-no-longer-has!!');
const typeOf = (k: Buffer) => k.subarray(4, 4 + k.readUInt32BE(0)).toString();
const line = (hosts: string, k: Buffer) => `${hosts} ${typeOf(k)} ${k.toString('base64')}`;

function setup(texts: string[], extra: Partial<HostConfig> = {}): { host: HostConfig; files: string[] } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uhk-'));
  const files = texts.map((t, i) => {
    const f = path.join(dir, `kh${i}`);
    writeFileSync(f, t);
    return f;
  });
  const host = { ...plainHostConfig({ host: 'h', port: 2222, userKnownHostsFiles: files }), ...extra };
  return { host, files };
}
const read = (f: string) => readFileSync(f, 'utf8');
const all = [ed, rsa, ecdsa];
const proven = { announced: all, proven: all };

function logger() {
  const said: string[] = [];
  const log = silentLogger();
  const record = (a: unknown, b?: unknown) => said.push(String(typeof a === 'string' ? a : b));
  return { said, log: Object.assign(Object.create(log), { info: record, error: record, debug: () => {} }) };
}

describe('updateHostKeys', () => {
  it('adds new keys to the first file, drops deprecated ones, and this host from the other files', async () => {
    const { host, files } = setup([
      `${line('[h]:2222', ed)}\n${line('[h]:2222', gone)}\n${line('other', rsa.subarray(0, 20))}\n`,
      `# second\n${line('[h]:2222', rsa)}\n${line('x', gone.subarray(0, 10))}\n`,
    ]);
    const { said, log } = logger();
    await updateHostKeys(host, proven, log);
    expect(read(files[0]!)).toBe(
      `${line('[h]:2222', ed)}\n${line('other', rsa.subarray(0, 20))}\n${line('[h]:2222', rsa)}\n${line('[h]:2222', ecdsa)}\n`,
    );
    expect(read(files[1]!)).toBe(`# second\n${line('x', gone.subarray(0, 10))}\n`);
    // Only the key in no file is new: the RSA one was known (in the second file).
    expect(said.filter((s) => /^(Learned|Deprecating)/.test(s))).toEqual([
      `Learned new hostkey: ECDSA ${fingerprintSha256(ecdsa)}`,
      `Deprecating obsolete hostkey: ED25519 ${fingerprintSha256(gone)}`,
    ]);
  });

  it('filters by HostKeyAlgorithms (RSA by its signature names) and skips certificates', async () => {
    const { host, files } = setup([`${line('[h]:2222', ed)}\n`], {
      hostKeyAlgorithms: ['ssh-ed25519', 'rsa-sha2-512'],
    });
    await updateHostKeys(host, { announced: [...all, cert], proven: [...all, cert] });
    expect(read(files[0]!)).toBe(`${line('[h]:2222', ed)}\n${line('[h]:2222', rsa)}\n`);
  });

  it.each([
    ['a wildcard line', `[h]:*`],
    ['a list of three names', `[h]:2222,a,b`],
  ])('changes nothing with %s for the host', async (_what, hosts) => {
    const text = `${line('[h]:2222', ed)}\n${line(hosts, gone)}\n`;
    const { host, files } = setup([text]);
    await updateHostKeys(host, proven);
    expect(read(files[0]!)).toBe(text);
  });

  it('changes nothing with a @revoked or @cert-authority line for the host', async () => {
    for (const marker of ['@revoked', '@cert-authority']) {
      const text = `${line('[h]:2222', ed)}\n${marker} ${line('[h]:2222', gone)}\n`;
      const { host, files } = setup([text]);
      await updateHostKeys(host, proven);
      expect(read(files[0]!)).toBe(text);
    }
  });

  it('changes nothing when an announced key is known under another name', async () => {
    const text = `${line('[h]:2222', ed)}\n${line('alias', rsa)}\n`;
    const { host, files } = setup([text]);
    await updateHostKeys(host, proven);
    expect(read(files[0]!)).toBe(text);
  });

  it('keeps a deprecated key that is also listed under another name', async () => {
    const text = `${line('[h]:2222', ed)}\n${line('[h]:2222', gone)}\n${line('alias', gone)}\n`;
    const { host, files } = setup([text]);
    await updateHostKeys(host, { announced: [ed], proven: [ed] });
    expect(read(files[0]!)).toBe(text);
  });

  it('changes nothing when a new key was not proven, and says so', async () => {
    const text = `${line('[h]:2222', ed)}\n`;
    const { host, files } = setup([text]);
    const { said, log } = logger();
    await updateHostKeys(host, { announced: all, proven: [ed, rsa] }, log);
    expect(read(files[0]!)).toBe(text);
    expect(said.some((s) => s.includes('server gave bad signature for ECDSA key 2'))).toBe(true);
  });

  it('writes host,ip under CheckHostIP and skips a line naming the host with another address', async () => {
    const ok = setup([`${line('[h]:2222,[10.0.0.1]:2222', ed)}\n`], { checkHostIp: true });
    await updateHostKeys(ok.host, { ...proven, address: '10.0.0.1' });
    expect(read(ok.files[0]!)).toBe(
      `${line('[h]:2222,[10.0.0.1]:2222', ed)}\n${line('[h]:2222,[10.0.0.1]:2222', rsa)}\n${line('[h]:2222,[10.0.0.1]:2222', ecdsa)}\n`,
    );
    const text = `${line('[h]:2222,[10.0.0.9]:2222', ed)}\n`;
    const other = setup([text], { checkHostIp: true });
    await updateHostKeys(other.host, { ...proven, address: '10.0.0.1' });
    expect(read(other.files[0]!)).toBe(text);
  });

  it('leaves the address out for a loopback peer, as ssh turns CheckHostIP off there', async () => {
    const { host, files } = setup([`${line('[h]:2222', ed)}\n`], { checkHostIp: true });
    await updateHostKeys(host, { announced: [ed, rsa], proven: [ed, rsa], address: '127.0.0.1' });
    expect(read(files[0]!)).toBe(`${line('[h]:2222', ed)}\n${line('[h]:2222', rsa)}\n`);
  });

  it('hashes the new lines under HashKnownHosts', async () => {
    const { host, files } = setup([`${line('[h]:2222', ed)}\n`], { hashKnownHosts: true });
    await updateHostKeys(host, proven);
    const added = read(files[0]!).trim().split('\n').slice(1);
    expect(added).toHaveLength(2);
    for (const l of added) expect(hostFieldMatches(l.split(' ')[0]!, '[h]:2222')).toBe(true);
  });

  it('leaves a missing file missing and writes nothing without user files', async () => {
    const { host } = setup([]);
    await expect(updateHostKeys(host, proven)).resolves.toBeUndefined();
  });
});
