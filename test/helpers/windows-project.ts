/**
 * The vitest project of the Windows tier (`SSHMUX_WINDOWS_TIER=1 npx vitest run --project
 * windows`): the built CLI under Wine's node.exe against the container sshd, one file at a time
 * (Wine processes are heavy on a 2-core machine). Its tests never skip: a missing Wine fails them.
 */
export const windowsProject = {
  test: {
    name: 'windows',
    include: ['test/windows/**/*.test.ts'],
    sequence: { groupOrder: 2 },
    environment: 'node',
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks' as const,
    maxWorkers: 1,
  },
};
