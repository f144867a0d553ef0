import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { HostConfig, StrictHostKeyChecking } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { HostKeyError } from '../../../src/errors.js';
import type { Logger } from '../../../src/logger.js';
import { appendKnownHostsLines } from '../../../src/security/known-hosts-file.js';
import { createHostKeyVerifier, type HostKeyQuestion } from '../../../src/security/verify-host-key.js';
import { onWindows, windowsSkipMark } from '../../helpers/posix-only.js';
import { makeKey, sshKeygen } from './keygen.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'sshmux-vhk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const good = makeKey(root, 'good');
const other = makeKey(root, 'other');
const rsa = makeKey(root, 'rsa', 'rsa');
let n = 0;

function setup(extra: Partial<HostConfig> = {}, port = 22) {
  const dir = path.join(root, `case${n++}`, '.ssh');
  const file = path.join(dir, 'known_hosts');
  const host: HostConfig = {
    ...plainHostConfig({ host: 'server.example', port, userKnownHostsFiles: [file] }),
    globalKnownHostsFiles: [],
    ...extra,
  };
  return { dir, file, host };
}

function writeLines(file: string, lines: string[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
}

async function refusal(p: Promise<void>): Promise<HostKeyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HostKeyError);
  const e = err as HostKeyError;
  expect(e.kind).toBe('host-key');
  expect(e.retryable).toBe(false);
  return e;
}

const line = (name: string, k = good) => `${name} ${k.type} ${k.b64}`;

describe('createHostKeyVerifier', () => {
  it('accepts a known key and reads several files, user then global', async () => {
    const { host, file } = setup();
    const global = path.join(root, 'global_known_hosts');
    writeFileSync(global, `${line('server.example')}\n`);
    const verify = createHostKeyVerifier();
    await verify(good.blob, { ...host, globalKnownHostsFiles: [global], strictHostKeyChecking: 'yes' });
    expect(() => statSync(file)).toThrow(); // nothing written
  });

  it('refuses an unknown key under the library default (ask without a prompt) and says how to accept it', async () => {
    const { host } = setup();
    const e = await refusal(createHostKeyVerifier()(good.blob, host));
    expect(e.message).toContain(good.fingerprint);
    expect(e.message).toContain('StrictHostKeyChecking=accept-new');
    expect(e.message).toContain('ssh-keyscan -t ssh-ed25519 server.example');
  });

  it.each(['yes', 'ask'] as StrictHostKeyChecking[])(
    'refuses an unknown key under %s + BatchMode without asking',
    async (mode) => {
      const { host, file } = setup();
      const prompt = vi.fn(async () => true);
      await refusal(
        createHostKeyVerifier({ prompt })(good.blob, {
          ...host,
          strictHostKeyChecking: mode,
          batchMode: true,
        }),
      );
      expect(prompt).not.toHaveBeenCalled();
      expect(() => statSync(file)).toThrow();
    },
  );

  it('ask: prompts with the fingerprint; yes appends, no refuses', async () => {
    const { host, file, dir } = setup({}, 2222);
    const questions: HostKeyQuestion[] = [];
    const no = createHostKeyVerifier({
      prompt: async (q) => {
        questions.push(q);
        return false;
      },
    });
    await refusal(no(good.blob, host));
    expect(questions[0]).toMatchObject({
      host: '[server.example]:2222',
      fingerprint: good.fingerprint,
      keyType: 'ED25519',
    });
    const yes = createHostKeyVerifier({ prompt: async () => true });
    await yes(good.blob, host);
    expect(readFileSync(file, 'utf8')).toBe(`${line('[server.example]:2222')}\n`);
    if (!onWindows) expect(statSync(dir).mode & 0o777).toBe(0o700);
    if (!onWindows) expect(statSync(file).mode & 0o777).toBe(0o600);
    // ssh-keygen agrees about what we wrote.
    if (!onWindows) expect(sshKeygen(['-F', '[server.example]:2222', '-f', file])).toContain(good.b64);
  });

  it('accept-new appends hashed when HashKnownHosts is on, keeps an existing mode, and accepts next time', async () => {
    const { host, file } = setup();
    writeLines(file, []);
    writeFileSync(file, '# existing, no trailing newline');
    chmodSync(file, 0o644);
    const verify = createHostKeyVerifier();
    const h = { ...host, strictHostKeyChecking: 'accept-new' as const, hashKnownHosts: true };
    await verify(good.blob, h);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[1]).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /);
    expect(text).not.toContain('server.example');
    if (!onWindows) expect(statSync(file).mode & 0o777).toBe(0o644);
    if (!onWindows) expect(sshKeygen(['-F', 'server.example', '-f', file])).toContain(good.b64);
    await createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'yes' });
  });

  it('no: accepts and records an unknown key', async () => {
    const { host, file } = setup();
    await createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'no' });
    expect(readFileSync(file, 'utf8')).toContain(line('server.example'));
  });

  it.each(['yes', 'accept-new', 'no', 'ask'] as StrictHostKeyChecking[])(
    'refuses a changed key under %s, naming host, file:line and both fingerprints',
    async (mode) => {
      const { host, file } = setup();
      writeLines(file, ['# first line', line('server.example', other)]);
      const e = await refusal(
        createHostKeyVerifier({ prompt: async () => true })(good.blob, {
          ...host,
          strictHostKeyChecking: mode,
        }),
      );
      expect(e.message).toContain('server.example');
      expect(e.message).toContain(`${file}:2`);
      expect(e.message).toContain(good.fingerprint);
      expect(e.message).toContain(other.fingerprint);
      expect(readFileSync(file, 'utf8').split('\n').length).toBe(3); // nothing appended
    },
  );

  it('treats a known host with only another key type as new, like OpenSSH', async () => {
    const { host, file } = setup();
    writeLines(file, [line('server.example', rsa)]);
    await createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'accept-new' });
    expect(readFileSync(file, 'utf8')).toContain(line('server.example'));
  });

  it('refuses a @revoked key even when it is also listed as known, under every mode', async () => {
    const { host, file } = setup();
    writeLines(file, [line('server.example'), `@revoked * ${good.type} ${good.b64}`]);
    const e = await refusal(createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'no' }));
    expect(e.message).toMatch(/REVOKED/);
    expect(e.message).toContain(`${file}:2`);
  });

  it('refuses a host covered by @cert-authority with an error naming file:line', async () => {
    const { host, file } = setup();
    writeLines(file, [`@cert-authority *.example ${other.type} ${other.b64}`]);
    const e = await refusal(
      createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'accept-new' }),
    );
    expect(e.message).toContain(`${file}:1`);
    expect(e.message).toMatch(/certificate/);
  });

  it('looks up and records the HostKeyAlias instead of the host name and port', async () => {
    const { host, file } = setup({ hostKeyAlias: 'my-alias' }, 2200);
    writeLines(file, [line('my-alias')]);
    await createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'yes' });
    await refusal(
      createHostKeyVerifier()(good.blob, {
        ...host,
        hostKeyAlias: 'other-alias',
        strictHostKeyChecking: 'yes',
      }),
    );
  });

  it('matches wildcard and negated entries', async () => {
    const { host, file } = setup();
    writeLines(file, [line('*.example,!server.example')]);
    await refusal(createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'yes' }));
    writeLines(file, [line('*.example')]);
    await createHostKeyVerifier()(good.blob, { ...host, strictHostKeyChecking: 'yes' });
  });

  describe('CheckHostIP', () => {
    const lookup = async () => '192.0.2.10';
    it('records host and IP on one line for a new host (unhashed) and the IP alone for a known host', async () => {
      const { host, file } = setup({ checkHostIp: true });
      await createHostKeyVerifier({ lookup })(good.blob, { ...host, strictHostKeyChecking: 'accept-new' });
      expect(readFileSync(file, 'utf8')).toBe(`${line('server.example,192.0.2.10')}\n`);
      writeLines(file, [line('server.example')]);
      await createHostKeyVerifier({ lookup })(good.blob, { ...host, strictHostKeyChecking: 'yes' });
      expect(readFileSync(file, 'utf8')).toBe(`${line('server.example')}\n${line('192.0.2.10')}\n`);
    });

    it('refuses under yes when the IP is known with another key, and only warns under no', async () => {
      const { host, file } = setup({ checkHostIp: true });
      writeLines(file, [line('server.example'), line('192.0.2.10', other)]);
      const e = await refusal(
        createHostKeyVerifier({ lookup })(good.blob, { ...host, strictHostKeyChecking: 'yes' }),
      );
      expect(e.message).toContain(`${file}:2`);
      await createHostKeyVerifier({ lookup })(good.blob, { ...host, strictHostKeyChecking: 'no' });
    });

    it('checks the address the connection is made to, not a fresh lookup, when it is known', async () => {
      const spy = vi.fn(lookup);
      const { host, file } = setup({ checkHostIp: true });
      writeLines(file, [line('server.example')]);
      await createHostKeyVerifier({ lookup: spy })(
        good.blob,
        { ...host, strictHostKeyChecking: 'yes' },
        { address: '198.51.100.7' },
      );
      expect(spy).not.toHaveBeenCalled();
      expect(readFileSync(file, 'utf8')).toBe(`${line('server.example')}\n${line('198.51.100.7')}\n`);
    });

    it('is off behind a ProxyCommand, where ssh has no address either', async () => {
      const spy = vi.fn(lookup);
      const { host } = setup({ checkHostIp: true });
      await createHostKeyVerifier({ lookup: spy })(good.blob, {
        ...host,
        proxyCommand: 'nc %h %p',
        strictHostKeyChecking: 'no',
      });
      expect(spy).not.toHaveBeenCalled();
    });

    it('is off by default (modern OpenSSH) and for literal addresses', async () => {
      const spy = vi.fn(lookup);
      const { host } = setup();
      await createHostKeyVerifier({ lookup: spy })(good.blob, { ...host, strictHostKeyChecking: 'no' });
      const ip = setup({ checkHostIp: true, hostname: '192.0.2.99' });
      await createHostKeyVerifier({ lookup: spy })(good.blob, { ...ip.host, strictHostKeyChecking: 'no' });
      expect(spy).not.toHaveBeenCalled();
    });
  });

  it('only warns when the known_hosts file cannot be written, as OpenSSH does', async () => {
    const blocker = path.join(root, 'not-a-dir');
    writeFileSync(blocker, '');
    const { host } = setup({ userKnownHostsFiles: [path.join(blocker, 'known_hosts')] });
    const warn = vi.fn();
    const logger = { warn, debug: vi.fn() } as unknown as Logger;
    await createHostKeyVerifier({ logger })(good.blob, { ...host, strictHostKeyChecking: 'accept-new' });
    expect(warn).toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/Failed to add the host key/));
  });

  // Windows appends through an append-only handle at the end of file, atomically; Wine (which
  // passes the Linux environment, WINEPREFIX included) interleaved them here one run in two.
  const underWine = onWindows && process.env.WINEPREFIX !== undefined;
  const itAppends = underWine ? it.skip : it;
  const wineMark = underWine
    ? ` ${windowsSkipMark("atomic appends, which Wine's emulation does not give")}`
    : '';
  itAppends(`keeps every line whole when many appends race${wineMark}`, async () => {
    const file = path.join(root, 'race', 'known_hosts');
    const lines = Array.from({ length: 200 }, (_, i) => `${line(`h${i}.example`)} ${'x'.repeat(i * 20)}`);
    await Promise.all(lines.map((l) => appendKnownHostsLines(file, [l])));
    const written = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(written.sort()).toEqual([...lines].sort());
  });
});
