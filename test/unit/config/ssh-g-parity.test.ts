import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHostConfig } from '../../../src/config/resolve.js';
import { sshErrorText } from '../../../src/config/ssh-error.js';
import { formatSshG } from '../../../src/config/ssh-g.js';
import { ConfigError } from '../../../src/errors.js';
import { onWindows, windowsSkipMark } from '../../helpers/posix-only.js';
import {
  FIXTURES,
  listFixtures,
  localEnvironment,
  normalize,
  readCases,
  runSsh,
  type Staged,
  sshVersion,
  stageFixture,
  type TestCase,
  toResolveOptions,
} from './ssh-g-harness.mjs';

// The stored outputs are Linux ssh's; under Windows node the local facts stand in as a Linux
// machine's would (a POSIX home: a Windows one keeps its backslash in ~/ paths, as
// Win32-OpenSSH writes them), so the comparison is of the resolution logic alone.
const local = onWindows ? { ...localEnvironment(), home: '/home/sshmux-win', uid: 1000 } : localEnvironment();
const recorded = readFileSync(path.join(FIXTURES, 'OPENSSH_VERSION'), 'utf8').trim();
// The stored outputs are OpenSSH 9.2p1's; a live ssh of another version prints other defaults.
const liveSsh = sshVersion() === recorded;

async function sshmux(staged: Staged, c: TestCase): Promise<string> {
  const hc = await resolveHostConfig(c.dest, {
    configFile: staged.config,
    ...toResolveOptions((c.args ?? []).map((a) => a.replaceAll('@DIR@', staged.dir))),
    allowMatchExec: true,
    // The stored outputs are Linux ssh's: resolve for the platform they were recorded on
    // (under Windows node too, where the defaults would otherwise be Windows paths).
    platform: 'linux',
    homeDir: local.home,
    localUser: local.user,
    localHostname: local.hostname,
    uid: local.uid,
    env: { PATH: '/usr/bin:/bin', HOME: staged.home, SHELL: '/bin/sh', LANG: 'C' },
  });
  return formatSshG(hc);
}

describe.each(listFixtures())('ssh -G parity: %s', (name) => {
  let staged: Staged;
  beforeAll(() => {
    staged = stageFixture(name);
  });
  afterAll(() => staged.cleanup());
  const cases = readCases(name).map((c) => [c.id, c] as const);
  // Match exec lines in these fixtures are sh commands (the outputs are Linux ssh's).
  const configFile = path.join(FIXTURES, name, 'config');
  const text = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
  const needsSh = /\bexec\b/i.test(text);
  // Include of an absolute @DIR@ path: a POSIX path here, a drive path under Windows node.
  const needsPosixPath = /^\s*include\s.*@DIR@/im.test(text);
  const itStored = onWindows && (needsSh || needsPosixPath) ? it.skip : it;
  const needs = [
    needsSh && 'sh (Match exec)',
    needsPosixPath && 'POSIX absolute paths (Include @DIR@/…)',
  ].filter(Boolean);
  const shMark = needs.length > 0 ? ` ${windowsSkipMark(needs.join(' and '))}` : '';

  itStored.each(cases)(
    `%s matches the stored ssh -G output (every line) or error wording${shMark}`,
    async (id, c) => {
      const dir = path.join(FIXTURES, name, 'expected');
      if (c.error) {
        const err = await sshmux(staged, c).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ConfigError);
        // ssh's own wording, as sshmux ssh prints it (log lines end in \r\n).
        const text = sshErrorText(err as ConfigError, false) ?? '';
        expect(normalize(text, staged, local)).toBe(readFileSync(path.join(dir, `${id}.stderr`), 'utf8'));
        return;
      }
      const expected = readFileSync(path.join(dir, `${id}.txt`), 'utf8');
      expect(normalize(await sshmux(staged, c), staged, local)).toBe(expected);
    },
  );

  const itLive = onWindows ? it.skip : it.runIf(liveSsh);
  itLive.each(cases)(
    `%s: the stored output is still what ssh prints ${windowsSkipMark('OpenSSH ssh -G')}`,
    async (id, c) => {
      const r = runSsh(staged, c);
      const file = path.join(FIXTURES, name, 'expected', c.error ? `${id}.stderr` : `${id}.txt`);
      expect(normalize(c.error ? r.stderr : r.stdout, staged, local)).toBe(readFileSync(file, 'utf8'));
      if (!c.error) expect(await sshmux(staged, c)).toBe(r.stdout);
    },
  );
});
