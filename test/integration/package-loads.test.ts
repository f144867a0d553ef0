import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';

/**
 * Regression: `import { utils } from 'ssh2'` passed under vitest (which interops CommonJS
 * loosely) but the built package failed to load in plain Node. These run the build exactly
 * as a user's Node does.
 */
describe('the built package in plain Node', () => {
  it('imports every public export', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('./dist/index.js'); console.log(Object.keys(m).length)",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(Number(out.trim())).toBeGreaterThan(20);
  });

  it('loads every CLI command', () => {
    const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const cmd of [
      'ssh',
      'scp',
      'sftp',
      'config',
      'btrfs',
      'hashsum',
      'verify',
      'push',
      'doctor',
      'completion',
    ])
      expect(help).toContain(cmd);
  });
});
