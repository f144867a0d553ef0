import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { setupFile, WineSandbox, type WineSetup, wineSetup, winPath } from '../helpers/wine.js';
import { PAGEANT_KEY_COMMENT, type StartedPageant, startPageant } from '../helpers/wine-pageant.js';

// `sshmux ssh` under Windows node.exe with IdentityAgent pageant / SSH_AUTH_SOCK=pageant: ssh2
// runs its own util/pagent.exe (a 32-bit program, hence wine32) for each agent request, which
// finds the tier's Pageant window and hands it the request in a file mapping; the Pageant asks a
// real ssh-agent. Its one key exists nowhere else, so a login proves the agent signed.
//
// Under 64-bit node.exe pagent.exe gets no usable stdout (libuv hands a child its C runtime
// descriptors in a table of 8-byte handles; the 32-bit C runtime pagent.exe is built with reads
// 4-byte ones, so its descriptor 1 is handle 0): the last describe pins that. The working path
// runs under 32-bit node.exe, where the table fits.

let setup: WineSetup;
/** The same Wine prefix with 32-bit node.exe. */
let setup32: WineSetup;
let sshd: StartedSshd;
const boxes: WineSandbox[] = [];
const pageants: StartedPageant[] = [];
function sandbox(on: WineSetup = setup32): WineSandbox {
  const box = new WineSandbox(on, sshd);
  boxes.push(box);
  return box;
}
async function pageant(box: WineSandbox): Promise<StartedPageant> {
  const started = await startPageant(setup, sshd, box.root);
  pageants.push(started);
  return started;
}
beforeAll(async () => {
  setup = wineSetup();
  setup32 = { ...setup, nodeExe: setupFile('node32') };
  sshd = await startSshd();
});
afterEach(async () => {
  for (const p of pageants.splice(0)) await p.stop();
  for (const box of boxes.splice(0)) await box.cleanup();
});
afterAll(async () => {
  await sshd?.stop();
});

/**
 * An ssh_config for `target` (user backup) with no IdentityFile: the sandbox profile has no
 * default key files, so the agent's key is the only one. (Not IdentitiesOnly: with it, ssh and
 * sshmux offer only agent keys whose file is named, and this key has none.)
 */
function config(box: WineSandbox, lines: string[]): string {
  const file = path.join(box.root, 'pageant.conf');
  writeFileSync(
    file,
    [
      'Host target',
      `  HostName ${sshd.host}`,
      `  Port ${sshd.port}`,
      '  User backup',
      `  UserKnownHostsFile ${winPath(sshd.knownHostsFile)}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      ...lines.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  return winPath(file);
}

const NO_DAEMON = { SSHMUX_NO_DAEMON: '1' };
/** `ssh-add -l`'s line for the key: `256 SHA256:… tier-pageant-key (ED25519)`. */
const LISTED = new RegExp(`^256 SHA256:\\S+ ${PAGEANT_KEY_COMMENT} \\(ED25519\\)\\n$`);

describe('sshmux ssh under 32-bit Windows node.exe: Pageant', () => {
  it('logs in in process with IdentityAgent pageant, the Pageant signing with its only key', async () => {
    const box = sandbox();
    const agent = await pageant(box);
    expect(agent.listed).toMatch(LISTED);
    const r = await box.ssh(
      ['-F', config(box, []), '-o', 'IdentityAgent=pageant', 'target', 'echo', 'via', '$USER'],
      {
        env: NO_DAEMON,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('via backup\n');
    expect(r.code).toBe(0);
    // Listed, then asked to sign: the login used the agent's key.
    expect(agent.requests()).toEqual(['11', '13']);
    expect(box.daemonPids()).toEqual([]);
  });

  it('logs in with SSH_AUTH_SOCK=pageant and nothing in the config', async () => {
    const box = sandbox();
    const agent = await pageant(box);
    const r = await box.ssh(['-F', config(box, []), 'target', 'echo', 'via', '$USER'], {
      env: { ...NO_DAEMON, SSH_AUTH_SOCK: 'pageant' },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('via backup\n');
    expect(r.code).toBe(0);
    expect(agent.requests()).toEqual(['11', '13']);
  });

  it('logs in through the daemon: two invocations, one login, one signature', async () => {
    const box = sandbox();
    const agent = await pageant(box);
    const cfg = config(box, ['IdentityAgent pageant']);
    const before = await sshd.countLogins('backup');
    const a = await box.ssh(['-F', cfg, 'target', 'echo', 'one', '$USER']);
    expect(a.stderr).toBe('');
    expect(a.stdout.toString()).toBe('one backup\n');
    expect(a.code).toBe(0);
    const b = await box.ssh(['-F', cfg, 'target', 'echo', 'two']);
    expect(b.stderr).toBe('');
    expect(b.stdout.toString()).toBe('two\n');
    expect(b.code).toBe(0);
    expect(await sshd.countLogins('backup')).toBe(before + 1);
    expect(box.daemonPids()).toHaveLength(1);
    expect(agent.requests()).toEqual(['11', '13']);
  });

  it('forwards the Pageant with -A through the daemon: ssh-add -l on the server lists its key', async () => {
    const box = sandbox();
    const agent = await pageant(box);
    const r = await box.ssh(['-A', '-F', config(box, ['IdentityAgent pageant']), 'target', 'ssh-add', '-l']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(agent.listed);
    expect(r.code).toBe(0);
    expect(box.daemonPids()).toHaveLength(1);
    // Is it there (ssh's check_agent_present), the login (list, sign), then the server's
    // ssh-add listing through the forwarded channel.
    expect(agent.requests()).toEqual(['11', '11', '13', '11']);
  });

  it('forwards the Pageant with -A in process', async () => {
    const box = sandbox();
    const agent = await pageant(box);
    const r = await box.ssh(['-A', '-F', config(box, ['IdentityAgent pageant']), 'target', 'ssh-add', '-l'], {
      env: NO_DAEMON,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(agent.listed);
    expect(r.code).toBe(0);
    expect(agent.requests()).toEqual(['11', '11', '13', '11']);
  });

  it('without a Pageant running fails at once, saying Pageant is not running', async () => {
    const box = sandbox();
    const started = Date.now();
    const r = await box.ssh(['-F', config(box, ['IdentityAgent pageant']), 'target', 'true'], {
      env: NO_DAEMON,
    });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toMatch(/Permission denied \(publickey/);
    // ssh2 loses pagent.exe's own reason ("Pageant is not running") on the way.
    expect(r.stderr).toContain(
      'Skipped: agent pageant unavailable: Failed to retrieve identities from agent',
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('sshmux ssh under 64-bit Windows node.exe: Pageant', () => {
  it("cannot read ssh2's pagent.exe answer: the login fails naming the agent, offering nothing else", async () => {
    const box = sandbox(setup);
    const agent = await pageant(box);
    const r = await box.ssh(['-F', config(box, ['IdentityAgent pageant']), 'target', 'true'], {
      env: NO_DAEMON,
    });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toContain('agent pageant unavailable');
    // pagent.exe stopped before it sent anything (its exit status 14: "could not set mode for stdout").
    expect(agent.requests()).toEqual([]);
  });
});
