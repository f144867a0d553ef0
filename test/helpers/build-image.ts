import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { SSHD_IMAGE } from './docker.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Build Dockerfile.sshd once per test run. testcontainers' `fromDockerfile` cannot choose
 * the build network, and on hosts whose engine runs with `--bridge=none` the build's
 * `apt-get` needs the host network, so we hand the same build to testcontainers' own
 * runtime client with `networkmode: host` (harmless on a normal Docker too).
 */
export async function buildSshdImage(tag = SSHD_IMAGE): Promise<string> {
  const client = await getContainerRuntimeClient();
  await client.image.build(ROOT, {
    t: tag,
    dockerfile: 'Dockerfile.sshd',
    networkmode: 'host',
    // biome-ignore lint/suspicious/noExplicitAny: dockerode's build options are wider than testcontainers' type
  } as any);
  if (!(await client.image.exists(ImageName.fromString(tag)))) {
    throw new Error(
      `Building ${tag} from Dockerfile.sshd failed (see docker build output with DEBUG=testcontainers*)`,
    );
  }
  return tag;
}
