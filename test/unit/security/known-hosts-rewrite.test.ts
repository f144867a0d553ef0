import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostFieldMatches } from '../../../src/security/known-hosts.js';
import { rewriteKnownHostsFile } from '../../../src/security/known-hosts-rewrite.js';
import { onWindows } from '../../helpers/posix-only.js';

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
const ed = blob('ssh-ed25519', 'ed-key-material-32-bytes-long!!!');
const rsa = blob('ssh-rsa', 'rsa-key-material');
const oldKey = blob('ssh-ed25519', 'an-old-key-that-the-server-lost');
const line = (host: string, k: Buffer) =>
  `${host} ${k.subarray(4, 4 + k.readUInt32BE(0)).toString()} ${k.toString('base64')}`;

function file(text: string): string {
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'khr-')), 'known_hosts');
  writeFileSync(f, text, { mode: 0o644 });
  return f;
}

describe('rewriteKnownHostsFile', () => {
  it('keeps other lines byte for byte, removes deprecated keys, appends new ones, keeps FILE.old', async () => {
    const before = `# comment\n${line('other', oldKey)}\n${line('[h]:2222', oldKey)}\n  ${line('[h]:2222', ed)}\nbogus line\n@revoked [h]:2222 ${line('', rsa).trim()}\n`;
    const f = file(before);
    const changed = await rewriteKnownHostsFile(f, '[h]:2222', undefined, [ed, rsa], false);
    expect(changed).toBe(true);
    const after = readFileSync(f, 'utf8');
    expect(after).toBe(
      `# comment\n${line('other', oldKey)}\n  ${line('[h]:2222', ed)}\nbogus line\n@revoked [h]:2222 ${line('', rsa).trim()}\n${line('[h]:2222', rsa)}\n`,
    );
    expect(readFileSync(`${f}.old`, 'utf8')).toBe(before);
    if (!onWindows) expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('changes nothing when every key is there', async () => {
    const before = `${line('[h]:2222', ed)}\n${line('[h]:2222', rsa)}`;
    const f = file(before);
    expect(await rewriteKnownHostsFile(f, '[h]:2222', undefined, [ed, rsa], false)).toBe(false);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('hashes new lines under HashKnownHosts, one line per name', async () => {
    const f = file('');
    await rewriteKnownHostsFile(f, 'Host.Example', '10.0.0.1', [ed], true);
    const lines = readFileSync(f, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(hostFieldMatches(lines[0]!.split(' ')[0]!, 'host.example')).toBe(true);
    expect(hostFieldMatches(lines[1]!.split(' ')[0]!, '10.0.0.1')).toBe(true);
  });

  it('writes host,ip unhashed and fixes a missing address', async () => {
    const f = file(`${line('h', ed)}\n`);
    await rewriteKnownHostsFile(f, 'h', '10.0.0.1', [ed, rsa], false);
    expect(readFileSync(f, 'utf8')).toBe(
      `${line('h', ed)}\n${line('10.0.0.1', ed)}\n${line('h,10.0.0.1', rsa)}\n`,
    );
  });
});
