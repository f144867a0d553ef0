import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { matchPatternList } from '../config/pattern.js';

/** One parsed known_hosts line. */
export interface KnownHostsEntry {
  readonly file: string;
  /** 1-based line number, as OpenSSH reports it. */
  readonly line: number;
  readonly marker: 'none' | 'revoked' | 'cert-authority';
  /** The host field as written: a pattern list or one `|1|salt|hash`. */
  readonly hosts: string;
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

/**
 * Parse known_hosts text. Malformed lines are skipped, as OpenSSH skips them; blank lines
 * and `#` comments are ignored.
 */
export function parseKnownHosts(text: string, file: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostsEntry['marker'] = 'none';
    if (fields[0] === '@revoked') marker = 'revoked';
    else if (fields[0] === '@cert-authority') marker = 'cert-authority';
    else if (fields[0]?.startsWith('@')) continue;
    if (marker !== 'none') fields.shift();
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) continue;
    const keyBlob = Buffer.from(b64, 'base64');
    if (keyBlob.length === 0) continue;
    entries.push({ file, line: i + 1, marker, hosts, keyType, keyBlob });
  }
  return entries;
}

/** The name OpenSSH looks up and writes: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** A hashed host field, `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

function matchesHashed(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const want = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length === 0 || want.length !== 20) return false;
  return timingSafeEqual(createHmac('sha1', salt).update(name).digest(), want);
}

/** Whether a known_hosts host field (plain pattern list or hashed) names `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return matchesHashed(field, name);
  // Host names compare case-insensitively, as OpenSSH's match_hostname does.
  return matchPatternList(name, field, true) === 1;
}

/** True for a literal IPv4 or IPv6 address (with or without brackets). */
export function isIpAddress(host: string): boolean {
  return isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}
