import './docker.js';
import { buildSshdImage } from './build-image.js';

/** Integration project global setup: build Dockerfile.sshd once for the whole run. */
export default async function setup(): Promise<void> {
  const started = Date.now();
  await buildSshdImage();
  process.stderr.write(`sshmux: built sshd test image in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
