import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';

/** `sshmux btrfs` end to end through the built CLI, as a user runs it with an ssh_config. */
describe('sshmux btrfs (CLI)', () => {
  let sshd: StartedSshd;
  let config: string;
  const btrfs = (...args: string[]): string => execFileSync('btrfs', args, { encoding: 'utf8' });
  const env = { SSH_AUTH_SOCK: '' };

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true });
    config = sshd.writeSshConfig('nas');
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('sends full then incremental, says why, and lists what arrived', async () => {
    const src = sshd.btrfs!.source;
    btrfs('subvolume', 'create', path.join(src, 'home'));
    writeFileSync(path.join(src, 'home', 'a'), 'one\n');
    btrfs('subvolume', 'snapshot', '-r', path.join(src, 'home'), path.join(src, 'home.1'));

    const full = await runCli(
      ['btrfs', 'send', '-F', config, path.join(src, 'home.1'), `nas:${CONTAINER_BTRFS}`],
      {
        env,
      },
    );
    expect(full.stderr).not.toMatch(/error/i);
    expect(full.code).toBe(0);
    expect(full.stdout.toString()).toMatch(/home\.1 .*\(full\).*verified/);

    writeFileSync(path.join(src, 'home', 'b'), 'two\n');
    btrfs('subvolume', 'snapshot', '-r', path.join(src, 'home'), path.join(src, 'home.2'));
    const inc = await runCli(
      ['btrfs', 'send', '-F', config, path.join(src, 'home.2'), `nas:${CONTAINER_BTRFS}`],
      {
        env,
      },
    );
    expect(inc.code).toBe(0);
    expect(inc.stdout.toString()).toMatch(/incremental from .*home\.1.*verified/s);

    const list = await runCli(['btrfs', 'list', '--json', '-F', config, `nas:${CONTAINER_BTRFS}`], { env });
    expect(list.code).toBe(0);
    const subvols = list.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; readonly: boolean; receivedUuid: string | null });
    expect(subvols.map((s) => s.name).sort()).toEqual(['home.1', 'home.2']);
    expect(subvols.every((s) => s.readonly && s.receivedUuid)).toBe(true);
    expect(await sshd.sh(`cat ${CONTAINER_BTRFS}/home.2/b`)).toBe('two\n');
  });

  it('refuses a writable source with exit 2 and says why, sending nothing', async () => {
    const src = sshd.btrfs!.source;
    btrfs('subvolume', 'create', path.join(src, 'rw'));
    const r = await runCli(['btrfs', 'send', '-F', config, path.join(src, 'rw'), `nas:${CONTAINER_BTRFS}`], {
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sshmux: .*read-only/m);
    expect(await sshd.sh(`ls ${CONTAINER_BTRFS}`)).not.toContain('rw');
  });
});
