import type { Reporter, TestModule } from 'vitest/node';

const MARK = /\[skipped on Windows: needs ([^\]]+)\]/;

/**
 * For the unit suite under Windows node (scripts/windows-unit.sh): prints how many tests were
 * skipped for a POSIX tool Windows lacks, by tool, and fails the run if any test was skipped
 * without that stated reason — a silent skip would hide a Windows failure.
 */
export default class WindowsSkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byReason = new Map<string, number>();
    const unexplained: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state !== 'skipped' && state !== 'pending') continue;
        // The mark may sit on the test or on an enclosing describe: fullName holds both.
        const reason = MARK.exec(test.fullName)?.[1];
        if (reason === undefined) unexplained.push(`${mod.moduleId} > ${test.fullName}`);
        else byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      }
    }
    const total = [...byReason.values()].reduce((a, b) => a + b, 0);
    const detail = [...byReason].map(([reason, n]) => `${n} need ${reason}`).join(', ');
    process.stdout.write(
      `\nskipped on ${process.platform} with a stated reason: ${total}${total ? ` (${detail})` : ''}\n`,
    );
    if (unexplained.length > 0) {
      process.stdout.write(
        `skipped without a stated reason: ${unexplained.length}\n  ${unexplained.join('\n  ')}\n`,
      );
      process.exitCode = 1;
    }
  }
}
