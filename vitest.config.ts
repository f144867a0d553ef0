import { defineConfig } from 'vitest/config';
import { dockerAvailable, integrationRequired } from './test/helpers/docker.js';
import { windowsProject } from './test/helpers/windows-project.js';

const wantsIntegration = !process.argv.includes('unit') || process.argv.includes('integration');
const docker = wantsIntegration ? dockerAvailable() : false;
if (wantsIntegration && !docker) {
  if (integrationRequired()) {
    throw new Error(
      'SSHMUX_REQUIRE_INTEGRATION=1 but no Docker engine answers `docker info`: run scripts/setup-test-host.sh as root',
    );
  }
  process.stderr.write(
    'sshmux: no Docker engine answers; integration tests skipped (scripts/setup-test-host.sh)\n',
  );
}

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/require-integration-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests first (fast feedback), then the container suite with its own worker limit.
          sequence: { groupOrder: 0 },
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'embedded',
          // The embedded SSH server (test/helpers/embedded/): runs everywhere, Docker or not;
          // after the container suite, never beside it (2 cores: the soak must not be starved).
          include: ['test/embedded/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks' as const,
          maxWorkers: 1,
        },
      },
      ...(docker
        ? [
            {
              test: {
                name: 'integration',
                include: ['test/integration/**/*.test.ts'],
                sequence: { groupOrder: 1 },
                environment: 'node',
                globalSetup: ['test/helpers/global-setup.ts'],
                // Containers, btrfs and real networks on 2-core machines: one file at a time, so
                // the CPU-heavy fault soak never starves a timing-bounded test in another file.
                testTimeout: 120_000,
                hookTimeout: 180_000,
                pool: 'forks' as const,
                maxWorkers: 1,
              },
            },
          ]
        : []),
      // The Windows tier (wine node.exe against the container sshd): only when asked, and then
      // every test must run (test/helpers/windows-project.ts).
      ...(process.env.SSHMUX_WINDOWS_TIER === '1' ? [windowsProject] : []),
    ],
  },
});
