import { readFile } from 'node:fs/promises';
import { DEFAULT_ALGORITHMS } from '../config/algorithm-lists.js';
import type { HostConfig } from '../config/host-config.js';
import { matchPatternList } from '../config/pattern.js';
import { type Logger, silentLogger } from '../logger.js';
import { displayKeyType, fingerprintSha256, keyTypeOfBlob } from './fingerprint.js';
import { knownHostsName } from './known-hosts.js';
import { rewriteKnownHostsFile, type ScannedLine, scanKnownHosts } from './known-hosts-rewrite.js';

/** What the server announced (hostkeys-00) and which of those ssh2 saw proven (hostkeys-prove-00). */
export interface HostKeyAnnouncement {
  readonly announced: readonly Buffer[];
  readonly proven: readonly Buffer[];
  /** The address connected to, for CheckHostIP; undefined when proxied. */
  readonly address?: string | undefined;
}

/** clientloop.c's key_accepted_by_hostkeyalgs: RSA is accepted by any of its signature names. */
function acceptedByHostKeyAlgorithms(type: string, algs: readonly string[]): boolean {
  const list = algs.join(',');
  if (type === 'ssh-rsa' && ['rsa-sha2-256', 'rsa-sha2-512'].some((a) => matchPatternList(a, list) === 1))
    return true;
  return matchPatternList(type, list) === 1;
}

function isLoopback(address: string): boolean {
  return address.replace(/^::ffff:/i, '').startsWith('127.') || address === '::1';
}

/** hostspec_is_complex: wildcards, or more than `host,ip`. */
function isComplex(hosts: string): boolean {
  if (/[*?]/.test(hosts)) return true;
  return hosts.split(',').length > 2;
}

async function scanFile(file: string, host: string, ip?: string): Promise<ScannedLine[] | undefined> {
  try {
    return scanKnownHosts(await readFile(file, 'utf8'), file, host, ip);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * UpdateHostKeys as clientloop.c's client_input_hostkeys applies it: the announced keys (filtered by
 * HostKeyAlgorithms, certificates skipped) are compared with this host's lines in the user known_hosts
 * files; new keys are added to the first file and keys the server no longer has are removed, unless a
 * line is a wildcard, a longer host list, a CA or revocation line, or a key is known under another
 * name. Every failure is logged, never thrown: a connection never fails for it.
 */
export async function updateHostKeys(
  host: HostConfig,
  ann: HostKeyAnnouncement,
  log: Logger = silentLogger(),
): Promise<void> {
  try {
    await apply(host, ann, log);
  } catch (err) {
    log.error({ err }, `UpdateHostKeys: ${(err as Error).message}`);
  }
}

async function apply(host: HostConfig, ann: HostKeyAnnouncement, log: Logger): Promise<void> {
  const files = host.userKnownHostsFiles;
  if (files.length === 0) return;
  const algs =
    host.hostKeyAlgorithms.length > 0 ? host.hostKeyAlgorithms : DEFAULT_ALGORITHMS.hostkeyalgorithms;
  const keys: Buffer[] = [];
  for (const key of ann.announced) {
    const type = keyTypeOfBlob(key);
    log.debug(`client_input_hostkeys: received ${displayKeyType(type)} key ${fingerprintSha256(key)}`);
    if (!acceptedByHostKeyAlgorithms(type, algs)) {
      log.debug(`client_input_hostkeys: ${type} key not permitted by HostkeyAlgorithms`);
      continue;
    }
    if (type.endsWith('-cert-v01@openssh.com')) continue;
    if (keys.some((k) => k.equals(key))) {
      log.error(`client_input_hostkeys: received duplicated ${type} host key`);
      return;
    }
    keys.push(key);
  }
  if (keys.length === 0) return void log.debug('client_input_hostkeys: server sent no hostkeys');
  const hostStr = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  // sshconnect.c turns CheckHostIP off for a loopback peer, a proxied connection, or a host given
  // by the very address (`[ip]:port` compared with the bare host name, as ssh compares them).
  const address = ann.address;
  const ipName = address === undefined ? undefined : knownHostsName(address, host.port);
  const ipStr =
    host.checkHostIp && address !== undefined && !isLoopback(address) && host.hostname !== ipName
      ? ipName
      : undefined;

  const match = keys.map(() => ({ host: false, ip: false }));
  const old: Buffer[] = [];
  let complex = false;
  let otherName = false;
  const scans: (ScannedLine[] | undefined)[] = [];
  for (const file of files) {
    const lines = await scanFile(file, hostStr, ipStr);
    scans.push(lines);
    for (const l of lines ?? []) {
      const e = l.entry;
      if (e === undefined) continue;
      if (!l.matchHost && !l.matchIp) {
        if (keys.some((k) => k.equals(e.keyBlob))) otherName = true;
        continue;
      }
      if (e.marker !== 'none') {
        complex = true;
        continue;
      }
      if (ipStr !== undefined && e.hosts.includes(',')) {
        if (!l.matchHost) {
          otherName = true;
          continue;
        }
        if (!l.matchIp) otherName = true;
      }
      if (isComplex(e.hosts)) {
        complex = true;
        continue;
      }
      const i = keys.findIndex((k) => k.equals(e.keyBlob));
      if (i >= 0) {
        match[i]!.host ||= l.matchHost;
        match[i]!.ip ||= l.matchIp;
      } else old.push(e.keyBlob);
    }
  }
  const isNew = match.map((m) => !m.host && !m.ip);
  if (!isNew.includes(true) && old.length === 0)
    return void log.debug('client_input_hostkeys: no new or deprecated keys from server');
  if (complex) {
    return void log.debug(
      'client_input_hostkeys: CA/revocation marker, manual host list or wildcard host pattern found, skipping UserKnownHostsFile update',
    );
  }
  if (otherName) {
    return void log.debug(
      'client_input_hostkeys: host key found matching a different name/address, skipping UserKnownHostsFile update',
    );
  }
  // check_old_keys_othernames: a deprecated key also listed under another name stays everywhere.
  const oldElsewhere = scans.some((lines) =>
    (lines ?? []).some(
      (l) => l.entry && !l.matchHost && !l.matchIp && old.some((k) => k.equals(l.entry!.keyBlob)),
    ),
  );
  if (oldElsewhere) {
    return void log.debug(
      `client_input_hostkeys: key(s) for ${hostStr}${ipStr === undefined ? '' : `,${ipStr}`} exist under other names; skipping UserKnownHostsFile update`,
    );
  }
  // Only new keys need a proof (ssh asks for those alone); one that failed stops the update.
  for (let i = 0; i < keys.length; i++) {
    if (isNew[i] && !ann.proven.some((p) => p.equals(keys[i]!))) {
      return void log.error(
        `client_global_hostkeys_prove_confirm: server gave bad signature for ${displayKeyType(keyTypeOfBlob(keys[i]!))} key ${i}`,
      );
    }
  }
  keys.forEach((k, i) => {
    if (isNew[i])
      log.info(`Learned new hostkey: ${displayKeyType(keyTypeOfBlob(k))} ${fingerprintSha256(k)}`);
  });
  for (const k of old)
    log.info(`Deprecating obsolete hostkey: ${displayKeyType(keyTypeOfBlob(k))} ${fingerprintSha256(k)}`);
  // Keys are added to the first file only; from the others this host's lines are removed.
  for (let i = 0; i < files.length; i++) {
    if (scans[i] === undefined) continue;
    try {
      await rewriteKnownHostsFile(files[i]!, hostStr, ipStr, i === 0 ? keys : [], host.hashKnownHosts, log);
    } catch (err) {
      log.error({ err }, `hostfile_replace_entries failed for ${files[i]}: ${(err as Error).message}`);
    }
  }
}

/**
 * Whether `key` is trusted through a plain line for this host in a user known_hosts file:
 * sshconnect.c turns UpdateHostKeys off otherwise (a key only in the global files, from
 * KnownHostsCommand, or accepted without being known).
 */
export async function knownInUserFiles(host: HostConfig, key: Buffer): Promise<boolean> {
  const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  for (const file of host.userKnownHostsFiles) {
    const lines = await scanFile(file, name).catch(() => undefined);
    if (lines?.some((l) => l.matchHost && l.entry?.marker === 'none' && l.entry.keyBlob.equals(key)))
      return true;
  }
  return false;
}
