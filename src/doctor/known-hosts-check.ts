import type { HostConfig } from '../config/host-config.js';
import { displayKeyType, fingerprintSha256, keyTypeOfBlob } from '../security/fingerprint.js';
import { hostFieldMatches, type KnownHostsEntry, knownHostsName } from '../security/known-hosts.js';
import { readKnownHostsFiles } from '../security/known-hosts-file.js';
import { knownHostStatus } from '../security/verify-host-key.js';
import { check, type DoctorCheck } from './types.js';

/** The server's host key as the connection attempt saw it, when it got that far. */
export interface SeenHostKey {
  readonly key: Buffer;
  /** Accepted in memory only: unknown, and StrictHostKeyChecking accept-new or no would have added it. */
  readonly acceptedUnknown: boolean;
}

function describe(e: KnownHostsEntry): string {
  return `${e.file}:${e.line} ${displayKeyType(keyTypeOfBlob(e.keyBlob))} ${fingerprintSha256(e.keyBlob)}${e.marker === 'none' ? '' : ` (@${e.marker})`}`;
}

function keyscan(host: HostConfig, keyType?: string): string {
  return `ssh-keyscan ${keyType ? `-t ${keyType} ` : ''}${host.port === 22 ? '' : `-p ${host.port} `}${host.hostname}`;
}

/**
 * What known_hosts says about the host: its entries (file:line, type, fingerprint) and, once the
 * server was reached, whether its key is known, unknown or changed, with its `SHA256:` fingerprint.
 */
export async function knownHostsCheck(host: HostConfig, seen: SeenHostKey | undefined): Promise<DoctorCheck> {
  const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  const files = [...host.userKnownHostsFiles, ...host.globalKnownHostsFiles];
  let entries: KnownHostsEntry[];
  try {
    entries = await readKnownHostsFiles(files);
  } catch (err) {
    return check({
      section: 'known-hosts',
      id: 'known-hosts',
      status: 'fail',
      summary: (err as Error).message,
      advice: 'make the file readable by you (its owner), or point UserKnownHostsFile elsewhere',
      data: { name, files },
    });
  }
  const matching = entries.filter((e) => hostFieldMatches(e.hosts, name));
  const listed = matching.map(describe);
  const userFile = host.userKnownHostsFiles[0] ?? '~/.ssh/known_hosts';
  const base = {
    name,
    files,
    entries: matching.map((e) => ({
      file: e.file,
      line: e.line,
      marker: e.marker,
      type: keyTypeOfBlob(e.keyBlob),
      fingerprint: fingerprintSha256(e.keyBlob),
    })),
    strictHostKeyChecking: host.strictHostKeyChecking,
    ...(host.knownHostsCommand && { knownHostsCommand: host.knownHostsCommand.command }),
  };
  const entriesText = listed.length > 0 ? `entries: ${listed.join('; ')}` : `no entry in ${files.join(', ')}`;
  if (seen === undefined) {
    // Not reached: say what is on file only.
    return check({
      section: 'known-hosts',
      id: 'known-hosts',
      status: listed.length > 0 || host.strictHostKeyChecking !== 'yes' ? 'ok' : 'warn',
      summary: `${name}: server not reached; ${entriesText}`,
      ...(listed.length === 0 &&
        host.strictHostKeyChecking === 'yes' && {
          advice: `StrictHostKeyChecking is yes: add the host's key first (\`${keyscan(host)} >> ${userFile}\`, after checking its fingerprint)`,
        }),
      data: { ...base, state: 'not-reached' },
    });
  }
  const keyType = keyTypeOfBlob(seen.key);
  const fingerprint = fingerprintSha256(seen.key);
  const offered = `server's ${displayKeyType(keyType)} key ${fingerprint}`;
  const status = knownHostStatus(entries, name, seen.key, keyType);
  const data = { ...base, key: { type: keyType, fingerprint } };
  switch (status.kind) {
    case 'ok':
      return check({
        section: 'known-hosts',
        id: 'known-hosts',
        status: 'ok',
        summary: `${name}: known: ${offered} matches ${status.entry.file}:${status.entry.line}`,
        data: { ...data, state: 'known', file: status.entry.file, line: status.entry.line },
      });
    case 'changed':
      return check({
        section: 'known-hosts',
        id: 'known-hosts',
        status: 'fail',
        summary: `${name}: CHANGED: ${offered}, but ${describe(status.entry)}`,
        advice:
          'someone may be intercepting the connection, or the host was reinstalled: confirm the new fingerprint with ' +
          `the host's administrator, then remove the old key with \`ssh-keygen -R '${name}' -f ${status.entry.file}\``,
        data: { ...data, state: 'changed', file: status.entry.file, line: status.entry.line },
      });
    case 'revoked':
      return check({
        section: 'known-hosts',
        id: 'known-hosts',
        status: 'fail',
        summary: `${name}: REVOKED: ${offered} is marked @revoked at ${status.entry.file}:${status.entry.line}`,
        advice: 'do not connect: the key was revoked; ask the host administrator for the current host key',
        data: { ...data, state: 'revoked', file: status.entry.file, line: status.entry.line },
      });
    case 'cert-authority':
      return check({
        section: 'known-hosts',
        id: 'known-hosts',
        status: 'fail',
        summary: `${name}: trusted through @cert-authority ${status.entry.file}:${status.entry.line}, which sshmux cannot check; ${offered} is not listed`,
        advice: `add the host's own key: \`${keyscan(host, keyType)} >> ${userFile}\`, after checking its fingerprint`,
        data: { ...data, state: 'cert-authority', file: status.entry.file, line: status.entry.line },
      });
    default:
      return check({
        section: 'known-hosts',
        id: 'known-hosts',
        status: seen.acceptedUnknown ? 'warn' : 'fail',
        summary: `${name}: unknown: ${offered}; ${entriesText}`,
        advice: seen.acceptedUnknown
          ? `StrictHostKeyChecking ${host.strictHostKeyChecking} adds it on the first real connection; check the fingerprint first`
          : `check the fingerprint with the host's administrator, then connect once with \`-o StrictHostKeyChecking=accept-new\` or add \`${keyscan(host, keyType)}\`'s line to ${userFile}`,
        data: { ...data, state: 'unknown' },
      });
  }
}

/** Whether the files list `key` for `host` (known), a different key of its type (changed), or nothing (new). */
export async function knownHostsFileStatus(host: HostConfig, key: Buffer): Promise<string> {
  const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  const entries = await readKnownHostsFiles([...host.userKnownHostsFiles, ...host.globalKnownHostsFiles]);
  return knownHostStatus(entries, name, key, keyTypeOfBlob(key)).kind;
}
