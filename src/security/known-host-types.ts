import type { HostConfig } from '../config/host-config.js';
import { keyTypeOfBlob } from './fingerprint.js';
import { hostFieldMatches, knownHostsName } from './known-hosts.js';
import { readKnownHostsFiles } from './known-hosts-file.js';

/**
 * The key types known_hosts holds for `host` (plain entries, under its HostKeyAlias or
 * `[host]:port` name), e.g. `ssh-ed25519`, `ssh-rsa`. Empty when there are none or the files
 * cannot be read: the verifier reports unreadable files itself.
 */
export async function knownHostKeyTypes(host: HostConfig): Promise<Set<string>> {
  const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  try {
    const entries = await readKnownHostsFiles([...host.userKnownHostsFiles, ...host.globalKnownHostsFiles]);
    return new Set(
      entries
        .filter((e) => e.marker === 'none' && hostFieldMatches(e.hosts, name))
        .map((e) => keyTypeOfBlob(e.keyBlob)),
    );
  } catch {
    return new Set();
  }
}
