import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../../src/doctor/doctor.js';
import { ConfigError } from '../../../src/errors.js';
import { selectEndpoint } from '../../../src/mux/endpoint.js';
import { itPosix } from '../../helpers/posix-only.js';

// Without the network (connect: false): the configuration, key and known_hosts lines.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-doctor-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function key(name: string, mode: number, passphrase?: string): string {
  const file = path.join(dir, name);
  const pair = ssh2.utils.generateKeyPairSync(
    'ed25519',
    passphrase ? { passphrase, cipher: 'aes256-ctr', rounds: 16 } : {},
  );
  writeFileSync(file, pair.private, { mode });
  chmodSync(file, mode);
  writeFileSync(`${file}.pub`, pair.public);
  return file;
}

const env = { XDG_RUNTIME_DIR: dir, SSH_AUTH_SOCK: '' };
const endpoint = selectEndpoint({
  platform: 'linux',
  env,
  uid: 1000,
  username: 'me',
  tmpdir: dir,
  homedir: dir,
});

async function doctor(config: string, extra: Record<string, unknown> = {}) {
  const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, config);
  const report = await runDoctor('box', {
    version: '9.9.9',
    env,
    endpoint,
    connect: false,
    resolve: { configFile: file, env, ...extra },
  });
  return { report, file, byId: (id: string) => report.checks.filter((c) => c.id === id) };
}

describe('runDoctor without connecting', () => {
  itPosix('POSIX file modes')(
    'reports each key: plain, encrypted, too open (as ssh ignores it), missing, with a certificate',
    async () => {
      const plain = key('id_plain', 0o600);
      const locked = key('id_locked', 0o600, 'secret');
      const open = key('id_open', 0o644);
      const certified = key('id_cert', 0o600);
      writeFileSync(`${certified}-cert.pub`, 'ssh-ed25519-cert-v01@openssh.com AAAA');
      const { report, file, byId } = await doctor(
        `Host box\n  IdentityFile ${plain}\n  IdentityFile ${locked}\n  IdentityFile ${open}\n` +
          `  IdentityFile ${dir}/id_missing\n  IdentityFile ${certified}\n  UserKnownHostsFile ${dir}/kh\n`,
      );
      const keys = byId('key');
      expect(keys.map((k) => [k.data?.file, k.status])).toEqual([
        [plain, 'ok'],
        [locked, 'ok'],
        [open, 'fail'],
        [`${dir}/id_missing`, 'warn'],
        [certified, 'warn'],
      ]);
      expect(keys[0]!.summary).toMatch(
        new RegExp(`^${plain} \\(${file}:2\\): ED25519 SHA256:\\S+, not encrypted$`),
      );
      expect(keys[1]!.summary).toContain('encrypted');
      expect(keys[1]!.data?.encrypted).toBe(true);
      expect(keys[1]!.advice).toContain('ssh-add');
      expect(keys[2]!.summary).toContain('UNPROTECTED PRIVATE KEY FILE');
      expect(keys[2]!.advice).toBe(`\`chmod 600 ${open}\``);
      expect(keys[3]!.summary).toBe(`${dir}/id_missing (IdentityFile, ${file}:5): no such file`);
      expect(keys[4]!.summary).toContain('is not offered (sshmux does not support user certificates)');
      expect(byId('keys')[0]!.summary).toBe('3 key file(s) and 0 from the agent would be offered');
      // Not reached: known_hosts only says what it holds.
      expect(byId('known-hosts')[0]!.summary).toBe(
        `box: server not reached; no entry in ${dir}/kh, /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2`,
      );
      expect(byId('connect')).toEqual([]);
      expect(report.ok).toBe(false);
    },
  );

  it('config lines name their origin; StrictHostKeyChecking no warns; an unsupported option fails', async () => {
    const { byId, file } = await doctor(
      'Host box\n  HostName 10.1.2.3\n  StrictHostKeyChecking no\n  ForwardX11 yes\n  IdentityFile /nonexistent\n',
      { port: 2200 },
    );
    expect(byId('config.hostname')[0]!.summary).toBe(`HostName 10.1.2.3  (${file}:2)`);
    expect(byId('config.port')[0]!.summary).toBe('Port 2200  (-p)');
    expect(byId('config.user')[0]!.summary).toMatch(/ \(default\)$/);
    const strict = byId('config.stricthostkeychecking')[0]!;
    expect(strict.status).toBe('warn');
    expect(strict.advice).toContain(`${file}:3`);
    const unsupported = byId('config.unsupported')[0]!;
    expect(unsupported.status).toBe('fail');
    expect(unsupported.summary).toContain('ForwardX11');
  });

  it('no destination: machine-level checks only', async () => {
    const report = await runDoctor(undefined, { version: '9.9.9', env, endpoint });
    expect([...new Set(report.checks.map((c) => c.section))]).toEqual(['system', 'daemon', 'agent']);
    expect(report.checks.find((c) => c.id === 'daemon')?.data?.running).toBe(false);
  });

  it('validates its options once, naming the bad value', async () => {
    await expect(runDoctor(undefined, { version: '' })).rejects.toThrow(ConfigError);
    await expect(runDoctor(undefined, { version: '1', timeoutMs: 0 })).rejects.toThrow(
      'Expected `timeoutMs` to be a positive integer, got `0`',
    );
    await expect(runDoctor(undefined, { version: '1', command: [] })).rejects.toThrow('`command`');
  });
});
