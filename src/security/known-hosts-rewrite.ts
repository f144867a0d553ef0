import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { LocalError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { displayKeyType, fingerprintSha256, keyTypeOfBlob } from './fingerprint.js';
import { hashHostName, hostFieldMatches, type KnownHostsEntry, parseKnownHosts } from './known-hosts.js';

/** One known_hosts line as hostfile.c's hostkeys_foreach sees it, with what it matched. */
export interface ScannedLine {
  /** The line as written (without its newline): kept byte for byte when not removed. */
  readonly text: string;
  /** Undefined for comments, blank and invalid lines. */
  readonly entry: KnownHostsEntry | undefined;
  readonly matchHost: boolean;
  readonly matchIp: boolean;
}

// Types ssh's sshkey_read knows: a line with another type is "invalid" and always kept.
const KNOWN_TYPE =
  /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com|ssh-ed448)(-cert-v01@openssh\.com)?$/;

/** Split known_hosts text into lines and match each against `host` and `ip` (either may be absent). */
export function scanKnownHosts(text: string, file: string, host: string, ip?: string): ScannedLine[] {
  const raw = text.split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((line, i) => {
    const parsed = parseKnownHosts(line, file)[0];
    const valid =
      parsed !== undefined &&
      KNOWN_TYPE.test(parsed.keyType) &&
      keyTypeOfBlob(parsed.keyBlob).replace(/-cert-v01@openssh\.com$/, '') ===
        parsed.keyType.replace(/-cert-v01@openssh\.com$/, '');
    const entry = valid ? { ...parsed, line: i + 1 } : undefined;
    return {
      text: line,
      entry,
      matchHost: entry !== undefined && hostFieldMatches(entry.hosts, host),
      matchIp: entry !== undefined && ip !== undefined && hostFieldMatches(entry.hosts, ip),
    };
  });
}

/** The lines ssh writes for a key: `host,ip` on one line, or one hashed line per name. */
export function hostEntryLines(host: string, ip: string | undefined, key: Buffer, hashed: boolean): string[] {
  const name = host.toLowerCase();
  const keyText = `${keyTypeOfBlob(key)} ${key.toString('base64')}`;
  if (!hashed) return [`${ip === undefined ? name : `${name},${ip}`} ${keyText}`];
  const lines = [`${hashHostName(name)} ${keyText}`];
  if (ip !== undefined) lines.push(`${hashHostName(ip.toLowerCase())} ${keyText}`);
  return lines;
}

export interface ReplaceResult {
  /** The new file text, or undefined when nothing changed. */
  readonly text: string | undefined;
  readonly messages: readonly string[];
}

/**
 * hostfile.c's hostfile_replace_entries, as a pure function: plain lines for `host`/`ip` whose key
 * is not in `keys` are removed (CA and revocation lines stay), lines holding one of `keys` stay,
 * and keys not yet matched under both names are added (or their missing name fixed) at the end.
 */
export function replaceEntries(
  lines: readonly ScannedLine[],
  file: string,
  host: string,
  ip: string | undefined,
  keys: readonly Buffer[],
  hashed: boolean,
): ReplaceResult {
  const out: string[] = [];
  const messages: string[] = [];
  const matched = keys.map(() => ({ host: false, ip: false }));
  let modified = false;
  for (const l of lines) {
    const e = l.entry;
    if (e !== undefined && (l.matchHost || l.matchIp) && e.marker === 'none') {
      const i = keys.findIndex((k) => k.equals(e.keyBlob));
      if (i >= 0) {
        const m = matched[i]!;
        m.host ||= l.matchHost;
        m.ip ||= l.matchIp;
        out.push(l.text);
        continue;
      }
      messages.push(`${file}:${e.line}: Removed ${displayKeyType(e.keyType)} key for host ${host}`);
      modified = true;
      continue;
    }
    out.push(l.text);
  }
  keys.forEach((key, i) => {
    const m = matched[i]!;
    const wantIp = ip !== undefined;
    if (m.host && (m.ip || !wantIp)) return;
    let what: string;
    if (!m.host && !m.ip) {
      what = 'Adding new key';
      out.push(...hostEntryLines(host, ip, key, hashed));
    } else if (!m.host) {
      what = 'Fixing match (hostname)';
      out.push(...hostEntryLines(host, undefined, key, hashed));
    } else {
      what = 'Fixing match (address)';
      out.push(...hostEntryLines(ip as string, undefined, key, hashed));
    }
    messages.push(
      `${what} for ${host}${wantIp ? `,${ip}` : ''} to ${file}: ${keyTypeOfBlob(key)} ${fingerprintSha256(key)}`,
    );
    modified = true;
  });
  return { text: modified ? out.map((l) => `${l}\n`).join('') : undefined, messages };
}

/**
 * Rewrite one known_hosts file as ssh does: a 0600 temporary file beside it, the old file kept
 * as `FILE.old` (a hard link), then an atomic rename, so a reader never sees half a file. The
 * messages go to VERBOSE (info), as hostfile.c logs them.
 */
export async function rewriteKnownHostsFile(
  file: string,
  host: string,
  ip: string | undefined,
  keys: readonly Buffer[],
  hashed: boolean,
  log: Logger = silentLogger(),
): Promise<boolean> {
  const text = await readFile(file, 'utf8');
  const result = replaceEntries(scanKnownHosts(text, file, host, ip), file, host, ip, keys, hashed);
  for (const m of result.messages) log.info(m);
  if (result.text === undefined) return false;
  const temp = `${file}.${randomBytes(8).toString('hex').slice(0, 11)}`;
  try {
    const fh = await open(temp, 'wx', 0o600);
    try {
      await fh.writeFile(result.text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(`${file}.old`).catch((err: { code?: string }) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await link(file, `${file}.old`);
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw new LocalError(`Cannot update known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return true;
}
