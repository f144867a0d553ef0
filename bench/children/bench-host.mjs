// Shared by the bench's child processes: the built package and a HostConfig for the bench's
// sshd with one cipher, from the JSON options the parent passes in argv[2].
import { pathToFileURL } from 'node:url';

export async function benchHost(opts) {
  const sshmux = await import(pathToFileURL(opts.dist).href);
  const base = sshmux.plainHostConfig({
    host: opts.host,
    port: opts.port,
    user: opts.user,
    identityFiles: [opts.key],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [opts.knownHosts],
  });
  const host = Object.freeze({
    ...base,
    ciphers: [opts.cipher],
    globalKnownHostsFiles: [],
    poolKey: `${base.poolKey}|ciphers=${opts.cipher}`,
  });
  return { sshmux, host };
}
