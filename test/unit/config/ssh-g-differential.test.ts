import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYWORD_SUPPORT } from '../../../src/config/keyword-support.js';
import { onWindows, windowsSkipMark } from '../../helpers/posix-only.js';
import { CASES } from './differential/cases.js';
import {
  type Outcome,
  runOpenSsh,
  runSshmux,
  type Staged,
  sshAvailable,
  stage,
} from './differential/run-both.js';

// In CI the live comparison is the point: a missing /usr/bin/ssh is a failure there, not a skip.
// Windows has no OpenSSH to compare with: there the cases skip, saying so.
const live = sshAvailable();
if (!live && !onWindows && process.env.CI === 'true') {
  throw new Error('CI=true but /usr/bin/ssh is missing: install openssh-client (scripts/setup-test-host.sh)');
}

const describeLive = onWindows ? describe.skip : describe.runIf(live);
describeLive.each(CASES.map((c) => [c.name, c] as const))(
  `ssh -G differential: %s ${windowsSkipMark('OpenSSH ssh -G')}`,
  (_n, c) => {
    let staged: Staged;
    let openssh: Outcome;
    let sshmux: Outcome;
    beforeAll(async () => {
      staged = stage(c);
      openssh = runOpenSsh(staged);
      sshmux = await runSshmux(staged);
    });
    afterAll(() => staged.cleanup());

    it('prints the same stdout, stderr and exit status as /usr/bin/ssh', () => {
      expect({ status: sshmux.status, stderr: sshmux.stderr, stdout: sshmux.stdout }).toEqual({
        status: openssh.status,
        stderr: openssh.stderr,
        stdout: openssh.stdout,
      });
    });
  },
);

describe('the differential cases', () => {
  it('name every keyword of the keyword table at least once', () => {
    const text = CASES.map((c) => [...c.argv, ...Object.values(c.files ?? {})].join('\n').toLowerCase()).join(
      '\n',
    );
    expect(Object.keys(KEYWORD_SUPPORT).filter((k) => !text.includes(k))).toEqual([]);
  });
});
