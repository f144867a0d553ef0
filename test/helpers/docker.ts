import { execFileSync } from 'node:child_process';

// Containers run with host networking on loopback. Ryuk (the reaper container) is not used:
// every test stops what it starts. The host override keeps testcontainers from looking for a
// `bridge` network gateway, which does not exist on engines started with --bridge=none.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

/** True when a Docker engine answers `docker info` within a few seconds. */
export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** CI sets this: every integration test must run, none may be skipped. */
export function integrationRequired(): boolean {
  return process.env.SSHMUX_REQUIRE_INTEGRATION === '1';
}

/** The image tag the integration suite builds from Dockerfile.sshd once per run. */
export const SSHD_IMAGE = process.env.SSHMUX_SSHD_IMAGE ?? 'sshmux-sshd:test';
