import { readFileSync } from 'node:fs';
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

const local = localEnvironment();
const recorded = readFileSync(path.join(FIXTURES, 'OPENSSH_VERSION'), 'utf8').trim();
// The stored outputs are OpenSSH 9.2p1's; a live ssh of another version prints other defaults.
const liveSsh = sshVersion() === recorded;

async function sshmux(staged: Staged, c: TestCase): Promise<string> {
  const hc = await resolveHostConfig(c.dest, {
    configFile: staged.config,
    ...toResolveOptions((c.args ?? []).map((a) => a.replaceAll('@DIR@', staged.dir))),
    allowMatchExec: true,
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

  it.each(cases)('%s matches the stored ssh -G output (every line) or error wording', async (id, c) => {
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
  });

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
