import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchPatternList } from '../../../src/config/pattern.js';
import { fingerprintSha256 } from '../../../src/security/fingerprint.js';
import {
  hashHostName,
  hostFieldMatches,
  knownHostsName,
  parseKnownHosts,
} from '../../../src/security/known-hosts.js';
import { itPosix } from '../../helpers/posix-only.js';
import { makeKey, sshKeygen } from './keygen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-kh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = makeKey(dir, 'host_ed25519');

describe('known_hosts parsing and matching', () => {
  itPosix('ssh-keygen')('computes fingerprints exactly as ssh-keygen -l prints them', () => {
    expect(fingerprintSha256(key.blob)).toBe(key.fingerprint);
    const rsa = makeKey(dir, 'host_rsa', 'rsa');
    expect(fingerprintSha256(rsa.blob)).toBe(rsa.fingerprint);
  });

  it('parses markers, comments, comma lists and reports 1-based line numbers', () => {
    const text = [
      '# comment',
      '',
      `a.example,b.example ${key.type} ${key.b64} a comment`,
      `@revoked * ${key.type} ${key.b64}`,
      `@cert-authority *.corp ${key.type} ${key.b64}`,
      '@unknown-marker x ssh-ed25519 AAAA',
      'garbage-line-without-key',
    ].join('\n');
    const entries = parseKnownHosts(text, '/f');
    expect(entries.map((e) => [e.line, e.marker, e.hosts])).toEqual([
      [3, 'none', 'a.example,b.example'],
      [4, 'revoked', '*'],
      [5, 'cert-authority', '*.corp'],
    ]);
    expect(entries[0]?.keyBlob.equals(key.blob)).toBe(true);
  });

  it('matches patterns with * ? and ! like OpenSSH (negation wins, case-insensitive)', () => {
    expect(matchPatternList('web1.example.com', '*.example.com', true)).toBe(1);
    expect(matchPatternList('WEB1.Example.COM', 'web?.example.com', true)).toBe(1);
    expect(matchPatternList('web10.example.com', 'web?.example.com', true)).toBe(0);
    expect(matchPatternList('db.example.com', '*.example.com,!db.example.com', true)).toBe(-1);
    expect(matchPatternList('[10.0.0.1]:2222', '[10.0.0.*]:2222', true)).toBe(1);
    expect(matchPatternList('10.0.0.1', '[10.0.0.*]:2222', true)).toBe(0);
    expect(hostFieldMatches('*.example.com,!db.example.com', 'db.example.com')).toBe(false);
  });

  it('writes non-22 ports as [host]:port', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('h', 2222)).toBe('[h]:2222');
  });

  itPosix('ssh-keygen')(
    'matches hashed names produced by ssh-keygen -H, and ssh-keygen -F finds names we hash',
    () => {
      const file = path.join(dir, 'hashed');
      writeFileSync(
        file,
        `plain.example ${key.type} ${key.b64}\n[port.example]:2222 ${key.type} ${key.b64}\n`,
      );
      sshKeygen(['-H', '-f', file]);
      const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
      expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
      expect(hostFieldMatches(entries[0]!.hosts, 'plain.example')).toBe(true);
      expect(hostFieldMatches(entries[0]!.hosts, 'other.example')).toBe(false);
      expect(hostFieldMatches(entries[1]!.hosts, '[port.example]:2222')).toBe(true);
      expect(hostFieldMatches(entries[1]!.hosts, 'port.example')).toBe(false);

      const ours = path.join(dir, 'ours');
      writeFileSync(ours, `${hashHostName('[mine.example]:2022')} ${key.type} ${key.b64}\n`);
      expect(sshKeygen(['-F', '[mine.example]:2022', '-f', ours])).toContain(key.b64);
    },
  );

  itPosix('ssh-keygen')('stops matching a host that ssh-keygen -R removed', () => {
    const file = path.join(dir, 'remove');
    writeFileSync(file, `gone.example ${key.type} ${key.b64}\nkept.example ${key.type} ${key.b64}\n`);
    sshKeygen(['-R', 'gone.example', '-f', file]);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(entries.some((e) => hostFieldMatches(e.hosts, 'gone.example'))).toBe(false);
    expect(entries.some((e) => hostFieldMatches(e.hosts, 'kept.example'))).toBe(true);
  });
});
