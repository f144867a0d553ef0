import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withoutInspectFlags } from '../../../src/cli/process-guard.js';
import { itPosix } from '../../helpers/posix-only.js';

// A file URL: a Windows path (`C:\…`) in an import specifier reads as a URL scheme.
const GUARD = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/cli/process-guard.ts')).href;

describe('withoutInspectFlags', () => {
  it('drops every inspector flag NODE_OPTIONS can carry and keeps the rest', () => {
    expect(
      withoutInspectFlags(
        '--max-old-space-size=512 --inspect --inspect=0.0.0.0:9229 --inspect-brk --inspect-wait=1 --inspect-port=1 --debug-port=2 --inspect-publish-uid=http --enable-source-maps',
      ),
    ).toBe('--max-old-space-size=512 --enable-source-maps');
    expect(withoutInspectFlags('')).toBe('');
  });
});

describe('guardProcess', () => {
  // A real node process: signal dispositions and the inspector cannot be faked.
  function run(script: string, env: NodeJS.ProcessEnv = {}) {
    return spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { guardProcess, onDeathBySignal } from ${JSON.stringify(GUARD)};\n${script}`,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 },
    );
  }

  itPosix('POSIX signals (SIGUSR1)')(
    'SIGUSR1 ends the process by SIGUSR1 after the death hooks, with no inspector',
    () => {
      const r = run(
        `guardProcess(); onDeathBySignal(() => process.stdout.write('restored\\n'));
       setTimeout(() => process.kill(process.pid, 'SIGUSR1'), 50); setTimeout(() => console.log('survived'), 3000);`,
      );
      expect(r.signal).toBe('SIGUSR1');
      expect(r.stdout).toBe('restored\n');
      expect(r.stderr).not.toMatch(/Debugger listening/);
    },
  );

  it('closes an inspector that NODE_OPTIONS opened and strips the flag for children', () => {
    const r = run(
      `guardProcess(); const i = await import('node:inspector');
       console.log(JSON.stringify({ url: i.url() ?? null, opts: process.env.NODE_OPTIONS }));`,
      { NODE_OPTIONS: '--inspect=127.0.0.1:0 --no-warnings' },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ url: null, opts: '--no-warnings' });
    expect(r.stderr).toMatch(/closed the Node inspector/);
  });
});
