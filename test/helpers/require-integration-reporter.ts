import type { Reporter, TestModule } from 'vitest/node';

/**
 * Under SSHMUX_REQUIRE_INTEGRATION=1 (CI), an integration test that did not run is a failure:
 * a green run that skipped the suite would prove nothing.
 */
export default class RequireIntegrationReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    if (process.env.SSHMUX_REQUIRE_INTEGRATION !== '1') return;
    const skipped: string[] = [];
    let ran = 0;
    let ranEmbedded = 0;
    for (const mod of testModules) {
      // The embedded-server project is part of what CI requires too (it needs no Docker).
      if (mod.project.name === 'embedded') {
        for (const test of mod.children.allTests()) {
          const state = test.result().state;
          if (state === 'skipped' || state === 'pending') skipped.push(`${mod.moduleId} > ${test.fullName}`);
          else ranEmbedded++;
        }
        continue;
      }
      // The Windows tier (SSHMUX_WINDOWS_TIER=1) is held to the same rule.
      if (mod.project.name !== 'integration' && mod.project.name !== 'windows') continue;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'skipped' || state === 'pending') skipped.push(`${mod.moduleId} > ${test.fullName}`);
        else ran++;
      }
    }
    if (ran === 0) skipped.push('(no integration test ran at all)');
    // The Windows stage runs its project alone; the embedded server's tests ran in the main run.
    const windowsOnly = testModules.length > 0 && testModules.every((m) => m.project.name === 'windows');
    if (ranEmbedded === 0 && !windowsOnly) skipped.push('(no embedded-server test ran at all)');
    if (skipped.length > 0) {
      process.stderr.write(
        `\nSSHMUX_REQUIRE_INTEGRATION=1 but ${skipped.length} integration test(s) did not run:\n  ${skipped.join('\n  ')}\n`,
      );
      process.exitCode = 1;
    }
  }
}
