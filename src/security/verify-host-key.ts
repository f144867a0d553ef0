import { lookup as dnsLookup } from 'node:dns/promises';
import type { HostConfig } from '../config/host-config.js';
import type { HostKeyPeer, HostKeyVerifier } from '../connection/connection.js';
import { HostKeyError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { displayKeyType, fingerprintSha256, keyTypeOfBlob } from './fingerprint.js';
import {
  hashHostName,
  hostFieldMatches,
  isIpAddress,
  type KnownHostsEntry,
  knownHostsName,
} from './known-hosts.js';
import { runKnownHostsCommand } from './known-hosts-command.js';
import { appendKnownHostsLines, readKnownHostsFiles } from './known-hosts-file.js';

/** What the user is asked about an unknown host key. */
export interface HostKeyQuestion {
  /** The known_hosts name: `host`, `[host]:port`, or the HostKeyAlias. */
  host: string;
  /** `SHA256:…`, as OpenSSH prints it. */
  fingerprint: string;
  /** `ED25519`, `RSA`, `ECDSA`… */
  keyType: string;
  /** The address checked under CheckHostIP, when one was. */
  ip?: string | undefined;
  /** Extra warning text to show before the question (e.g. the IP's key differs). */
  warning?: string | undefined;
}

/** Answers `true` to trust the key. */
export type HostKeyPrompt = (question: HostKeyQuestion) => Promise<boolean>;

/** Options of `createHostKeyVerifier`. */
export interface HostKeyVerifierOptions {
  /** Asked under `StrictHostKeyChecking ask`; without it, unknown keys are refused. @default undefined */
  prompt?: HostKeyPrompt;
  /** @default silent */
  logger?: Logger;
  /** Resolves a host name to the address CheckHostIP records. @default dns.lookup */
  lookup?: (hostname: string) => Promise<string>;
  /** KnownHostsCommand's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What known_hosts says about a key offered under a name (see `knownHostStatus`). */
export type KnownHostStatus =
  | { kind: 'ok'; entry: KnownHostsEntry }
  | { kind: 'revoked'; entry: KnownHostsEntry }
  | { kind: 'changed'; entry: KnownHostsEntry }
  | { kind: 'cert-authority'; entry: KnownHostsEntry }
  | { kind: 'new' };

/** OpenSSH's `check_key_in_hostkeys`: revoked beats known, a same-type different key is a change. */
export function knownHostStatus(
  entries: readonly KnownHostsEntry[],
  name: string,
  key: Buffer,
  keyType: string,
): KnownHostStatus {
  const matching = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const revoked = matching.find((e) => e.marker === 'revoked' && e.keyBlob.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const plain = matching.filter((e) => e.marker === 'none');
  const ok = plain.find((e) => e.keyBlob.equals(key));
  if (ok) return { kind: 'ok', entry: ok };
  const changed = plain.find((e) => keyTypeOfBlob(e.keyBlob) === keyType);
  if (changed) return { kind: 'changed', entry: changed };
  const ca = matching.find((e) => e.marker === 'cert-authority');
  if (ca) return { kind: 'cert-authority', entry: ca };
  return { kind: 'new' };
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/**
 * A host-key verifier with OpenSSH's known_hosts semantics and `StrictHostKeyChecking`
 * policy: `yes` refuses unknown keys, `accept-new` and `no` record them, `ask` asks the
 * prompt (and refuses without one or under BatchMode). Changed and revoked keys are always
 * refused; `@cert-authority` entries are refused because ssh2 cannot check certificates.
 */
export function createHostKeyVerifier(options: HostKeyVerifierOptions = {}): HostKeyVerifier {
  const log = options.logger ?? silentLogger();
  const lookup = options.lookup ?? (async (h: string) => (await dnsLookup(h)).address);
  return async (key: Buffer, host: HostConfig, peer: HostKeyPeer = {}) => {
    const destination = `${host.user}@${host.hostname}:${host.port}`;
    const keyType = keyTypeOfBlob(key);
    const shown = displayKeyType(keyType);
    const fingerprint = fingerprintSha256(key);
    const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
    const files = [...host.userKnownHostsFiles, ...host.globalKnownHostsFiles];
    const fileEntries = await readKnownHostsFiles(files);
    // KnownHostsCommand's lines count as one more (read-only) known_hosts source, as in sshconnect.c.
    const fromCommand = async (invocation: 'HOSTNAME' | 'ADDRESS', hostfileName: string) =>
      host.knownHostsCommand === undefined
        ? []
        : runKnownHostsCommand(
            host.knownHostsCommand,
            { invocation, hostfileName, keyType, fingerprint, key },
            log,
            options.env,
          );
    let entries = [...fileEntries, ...(await fromCommand('HOSTNAME', name))];
    const fail = (message: string): never => {
      throw new HostKeyError(message, { destination });
    };
    const at = (e: KnownHostsEntry): string => `${e.file}:${e.line}`;

    // CheckHostIP is off for literal addresses, loopback and jumped hosts, as in OpenSSH.
    let ipName: string | undefined;
    // ssh has no address for a proxied connection ("<no hostip for proxy command>").
    if (
      host.checkHostIp &&
      !isIpAddress(host.hostname) &&
      host.proxyJump.length === 0 &&
      host.proxyCommand === undefined
    ) {
      try {
        // The address we are connected to, as ssh uses its socket's; a lookup when not known.
        const ip = peer.address ?? (await lookup(host.hostname));
        if (!isLoopback(ip)) ipName = knownHostsName(ip, host.port);
      } catch (err) {
        log.debug({ err, host: host.hostname }, 'CheckHostIP: address lookup failed');
      }
    }

    if (ipName !== undefined) entries = [...entries, ...(await fromCommand('ADDRESS', ipName))];
    const status = knownHostStatus(entries, name, key, keyType);
    const ipStatus = ipName === undefined ? undefined : knownHostStatus(entries, ipName, key, keyType);
    for (const s of [status, ipStatus]) {
      if (s?.kind === 'revoked') {
        fail(
          `REVOKED HOST KEY DETECTED: the ${shown} host key for ${name} (${fingerprint}) is marked as revoked ` +
            `in ${at(s.entry)}. This could mean that a stolen key is being used to impersonate this host.`,
        );
      }
    }
    if (status.kind === 'changed') {
      fail(
        `REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}: the server offered ${shown} key ${fingerprint}, ` +
          `but ${at(status.entry)} holds ${fingerprintSha256(status.entry.keyBlob)}. Someone could be ` +
          `eavesdropping on you right now (man-in-the-middle attack), or the host key was just changed. ` +
          `If the change is expected, remove the old key with \`ssh-keygen -R '${name}' -f ${status.entry.file}\`.`,
      );
    }
    if (status.kind === 'cert-authority') {
      fail(
        `${name} is trusted through the @cert-authority line ${at(status.entry)}, but host certificates are not ` +
          `supported (ssh2 cannot verify them), and its plain ${shown} key ${fingerprint} is not in known_hosts. ` +
          `Add the host's own key (e.g. from \`ssh-keyscan\`) to verify it without the certificate.`,
      );
    }

    const mode = host.strictHostKeyChecking;
    if (ipStatus?.kind === 'changed') {
      const warning =
        `Warning: the ${shown} host key for '${name}' differs from the key for the IP address '${ipName}'. ` +
        `Offending key for IP in ${at(ipStatus.entry)}` +
        (status.kind === 'ok' ? `; matching host key in ${at(status.entry)}` : '');
      if (mode === 'no') {
        log.warn({ host: name }, warning);
      } else if (mode === 'ask' && options.prompt && !host.batchMode) {
        const q = { host: name, fingerprint, keyType: shown, ip: ipName, warning };
        if (!(await options.prompt(q))) fail(`${warning}. Host key verification failed.`);
      } else {
        fail(`${warning}. Refusing to connect: strict host key checking is ${mode}.`);
      }
    }

    const userFile = host.userKnownHostsFiles[0];
    if (status.kind === 'ok') {
      log.debug({ host: name, file: at(status.entry) }, 'host key matches known_hosts');
      if (ipName !== undefined && ipStatus?.kind === 'new' && userFile) {
        await record(
          userFile,
          [ipName],
          key,
          keyType,
          host.hashKnownHosts,
          false,
          log,
          `IP address '${ipName}'`,
        );
      }
      return;
    }

    // status.kind === 'new'
    const hint =
      `To accept it, check the fingerprint and connect once with -o StrictHostKeyChecking=accept-new, or add ` +
      `the line printed by \`ssh-keyscan -t ${keyType} ${host.port === 22 ? '' : `-p ${host.port} `}${host.hostname}\`` +
      ` to ${userFile ?? '~/.ssh/known_hosts'}.`;
    const unknown = `The ${shown} host key for ${name} (${fingerprint}) is not known (searched ${files.join(', ') || 'no files'}).`;
    // ssh's last word here is `Host key verification failed.`: scripts grep for it.
    if (mode === 'yes')
      fail(`${unknown} StrictHostKeyChecking is yes: Host key verification failed. ${hint}`);
    if (mode === 'ask') {
      if (host.batchMode) fail(`${unknown} Host key verification failed: BatchMode forbids asking. ${hint}`);
      if (!options.prompt) fail(`${unknown} Host key verification failed: there is no way to ask. ${hint}`);
      const accepted = await options.prompt?.({ host: name, fingerprint, keyType: shown, ip: ipName });
      if (!accepted) fail(`${unknown} Host key verification failed: the key was not accepted.`);
    }
    if (!userFile) return;
    const names = ipName !== undefined && ipStatus?.kind === 'new' ? [name, ipName] : [name];
    await record(userFile, names, key, keyType, host.hashKnownHosts, true, log, `'${names.join(',')}'`);
  };
}

/** Append like OpenSSH: `host,ip` on one line unhashed, or one hashed line per name. Failure only warns. */
async function record(
  file: string,
  names: readonly string[],
  key: Buffer,
  keyType: string,
  hashed: boolean,
  isHost: boolean,
  log: Logger,
  what: string,
): Promise<void> {
  const b64 = key.toString('base64');
  const lines = hashed
    ? names.map((n) => `${hashHostName(n)} ${keyType} ${b64}`)
    : [`${names.join(',')} ${keyType} ${b64}`];
  try {
    await appendKnownHostsLines(file, lines);
    log.warn(
      { file },
      `Warning: Permanently added ${isHost ? what : `the ${displayKeyType(keyType)} host key for ${what}`} (${displayKeyType(keyType)}) to the list of known hosts.`,
    );
  } catch (err) {
    log.warn({ err, file }, `Failed to add the host key for ${what} to the list of known hosts`);
  }
}
