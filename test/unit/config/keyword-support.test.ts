import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertConnectable, KEYWORD_SUPPORT } from '../../../src/config/keyword-support.js';
import { isKnownKeyword } from '../../../src/config/keywords.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { resolveHostConfig } from '../../../src/config/resolve.js';
import { formatSshG } from '../../../src/config/ssh-g.js';
import { ConfigError } from '../../../src/errors.js';
import { SshPool } from '../../../src/pool/ssh-pool.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-support-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { homeDir: dir, localUser: 'me', localHostname: 'local', uid: 1000, env: {} };

async function resolve(config: string, overrides: [string, string][] = []) {
  const file = path.join(dir, `c${Math.random()}`);
  writeFileSync(file, config, { mode: 0o644 });
  return resolveHostConfig('h', { ...base, configFile: file, overrides });
}

describe('the keyword table', () => {
  it('has one row per keyword ssh -G prints, plus the per-line ones, and nothing else', async () => {
    const printed = formatSshG(await resolve(''))
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]!.toLowerCase());
    const expected = new Set([
      ...printed,
      'localforward',
      'remoteforward',
      'dynamicforward',
      'certificatefile',
    ]);
    for (const k of ['hostkeyalias', 'identityagent', 'controlpath', 'bindaddress', 'bindinterface'])
      expected.add(k);
    for (const k of [
      'ignoreunknown',
      'kbdinteractivedevices',
      'localcommand',
      'remotecommand',
      'pkcs11provider',
    ]) {
      expected.add(k);
    }
    for (const k of ['preferredauthentications', 'revokedhostkeys', 'knownhostscommand', 'proxycommand']) {
      expected.add(k);
    }
    for (const k of ['proxyjump', 'sendenv', 'setenv', 'gssapiclientidentity', 'gssapiserveridentity']) {
      expected.add(k);
    }
    expect(Object.keys(KEYWORD_SUPPORT).sort()).toEqual([...expected].sort());
  });

  it('is the table docs/config.md shows, row for row', () => {
    const doc = readFileSync(path.join(import.meta.dirname, '../../../docs/config.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((l) => /^\| [A-Z][A-Za-z0-9]* \| (honoured|inert|refused unless)/.test(l))
      .map((l) => l.split(' | ').slice(0, 2).join(' | '));
    const expected = Object.values(KEYWORD_SUPPORT).map(
      (r) => `| ${r.name} | ${r.status === 'refused-unless-default' ? 'refused unless' : r.status}`,
    );
    expect(rows.map((r) => r.replace(/ unless .*/, ' unless'))).toEqual(expected);
  });

  it('is alphabetical and names only keywords the parser knows', () => {
    const keys = Object.keys(KEYWORD_SUPPORT);
    expect(keys).toEqual([...keys].sort());
    for (const k of keys) expect(isKnownKeyword(k), k).toBe(true);
  });
});

describe('assertConnectable', () => {
  it('passes the defaults and a plain HostConfig', async () => {
    expect(() => assertConnectable(plainHostConfig({ host: 'h' }))).not.toThrow();
    await expect(resolve('')).resolves.toSatisfy((h) => {
      assertConnectable(h);
      return true;
    });
  });

  it('refuses an effective non-default value, naming keyword, value and what to do', async () => {
    const h = await resolve('Host h\n  ForwardX11 yes\n');
    expect(() => assertConnectable(h)).toThrow(ConfigError);
    expect(() => assertConnectable(h)).toThrow(
      "ForwardX11 yes is not supported by sshmux (X11 forwarding); remove it or use OpenSSH's ssh",
    );
    const p = await resolve('', [['ForwardX11', 'yes']]);
    expect(() => assertConnectable(p)).toThrow(/^ForwardX11 yes is not supported/);
    const f = await resolve('CertificateFile /nonexistent/cert.pub\n');
    expect(() => assertConnectable(f)).toThrow(/^CertificateFile /);
    // Honoured since issue 14: local, remote and dynamic forwards connect.
    const l = await resolve(
      'LocalForward 8080 localhost:80\nRemoteForward 8081 localhost:80\nDynamicForward 1080\nGatewayPorts yes\n',
    );
    expect(() => assertConnectable(l)).not.toThrow();
  });

  it('passes remote and agent forwarding, which sshmux does', async () => {
    const h = await resolve('RemoteForward 8080 localhost:80\nForwardAgent yes\nExitOnForwardFailure yes\n');
    expect(() => assertConnectable(h)).not.toThrow();
  });

  it('never refuses an option of a Host block that does not apply', async () => {
    const h = await resolve('Host other\n  ForwardX11 yes\n  ProxyCommand false\n');
    expect(() => assertConnectable(h)).not.toThrow();
  });

  it('accepts inert keywords with any value and accepted non-defaults', async () => {
    const h = await resolve(
      'ForwardX11Trusted no\nPasswordAuthentication no\nTCPKeepAlive no\nGatewayPorts yes\n',
    );
    expect(() => assertConnectable(h)).not.toThrow();
  });

  it('is applied by SshPool to a HostConfig from resolveHostConfig', async () => {
    const h = await resolve('ForwardX11 yes\n');
    await using pool = new SshPool();
    await expect(pool.exec(h, ['true'])).rejects.toThrow(
      /^ForwardX11 yes is not supported by sshmux \(X11 forwarding\)/,
    );
  });
});

describe('forwards in the HostConfig', () => {
  it('LocalForward/DynamicForward arrive parsed, and do not change the pool key (runs share connections)', async () => {
    const plain = await resolve('');
    const fwd = await resolve('LocalForward 127.0.0.1:8080 db:5432\nDynamicForward 1080\n');
    expect(fwd.localForwards).toEqual([
      expect.objectContaining({
        listenHost: '127.0.0.1',
        listenPort: 8080,
        connectHost: 'db',
        connectPort: 5432,
      }),
      expect.objectContaining({ listenPort: 1080, connectHost: 'socks' }),
    ]);
    expect(fwd.poolKey).toBe(plain.poolKey);
    const cleared = await resolve('LocalForward 8080 db:5432\nClearAllForwardings yes\n');
    expect(cleared.localForwards).toEqual([]);
  });
});
