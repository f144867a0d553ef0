/**
 * `npm run demo`: show sshmux doing its main jobs through the built package (dist/) and CLI,
 * printing what it did; exits 0 when every step worked. With a Docker engine it runs against the
 * bundled OpenSSH sshd container; without one (or with it hidden, e.g.
 * DOCKER_HOST=unix:///nonexistent) against the embedded SSH server, on Linux, macOS or Windows.
 */
import { dockerAvailable } from '../test/helpers/docker.js';
import { dockerDemo } from './demo/docker-demo.js';
import { embeddedDemo } from './demo/embedded-demo.js';

async function main(): Promise<void> {
  if (dockerAvailable()) return dockerDemo();
  const hidden = process.env.DOCKER_HOST ? ` (DOCKER_HOST=${process.env.DOCKER_HOST})` : '';
  return embeddedDemo(`no Docker engine answers \`docker info\`${hidden}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
