import type { HostConfig } from '../config/host-config.js';
import { silentLogger } from '../logger.js';
import { keyTypeOfBlob } from './fingerprint.js';
import { hostFieldMatches, knownHostsName } from './known-hosts.js';
import { runKnownHostsCommand } from './known-hosts-command.js';
import { readKnownHostsFiles } from './known-hosts-file.js';

/**
 * The key types known_hosts holds for `host` (plain entries, under its HostKeyAlias or
 * `[host]:port` name), e.g. `ssh-ed25519`, `ssh-rsa`, plus those KnownHostsCommand prints for
 * its `ORDER` run (sshconnect2.c order_hostkeyalgs: `%H` is the bare host name there). Empty
 * when there are none or the files cannot be read: the verifier reports unreadable files itself.
 * A KnownHostsCommand that fails fails the connection, as in ssh. ssh runs it only when the
 * order matters (HostKeyAlgorithms left at its default): `runCommand: false` otherwise.
 */
export async function knownHostKeyTypes(
  host: HostConfig,
  options: { runCommand?: boolean } = {},
): Promise<Set<string>> {
  const name = host.hostKeyAlias ?? knownHostsName(host.hostname, host.port);
  const types = new Set<string>();
  try {
    const entries = await readKnownHostsFiles([...host.userKnownHostsFiles, ...host.globalKnownHostsFiles]);
    for (const e of entries) {
      if (e.marker === 'none' && hostFieldMatches(e.hosts, name)) types.add(keyTypeOfBlob(e.keyBlob));
    }
  } catch {
    // Reported by the verifier.
  }
  if (host.knownHostsCommand !== undefined && options.runCommand !== false) {
    const query = { invocation: 'ORDER', hostfileName: host.hostname } as const;
    for (const e of await runKnownHostsCommand(host.knownHostsCommand, query, silentLogger())) {
      if (e.marker === 'none' && hostFieldMatches(e.hosts, host.hostname))
        types.add(keyTypeOfBlob(e.keyBlob));
    }
  }
  return types;
}
