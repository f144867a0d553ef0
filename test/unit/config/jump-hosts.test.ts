import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostConfig } from '../../../src/config/host-config.js';
import { runsProxyCommand } from '../../../src/config/jump-hosts.js';
import { type ResolveOptions, resolveHostConfig } from '../../../src/config/resolve.js';
import { formatSshG } from '../../../src/config/ssh-g.js';
import { ConfigError } from '../../../src/errors.js';
import { itPosix } from '../../helpers/posix-only.js';

/**
 * ProxyJump hops resolved through ssh_config, checked against the real `ssh -G` run with the
 * command line ssh.c builds for each hop: `ssh [-l u] [-p p] [-J earlier] -F cfg hop`.
 */
let dir: string;
let cfg: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-jump-'));
  cfg = path.join(dir, 'config');
  writeFileSync(
    cfg,
    `Host a
  HostName 10.0.0.1
  User ua
  Port 2201
  IdentityFile ${dir}/key_a
  UserKnownHostsFile ${dir}/kh_a
  StrictHostKeyChecking accept-new
Host b
  HostName 10.0.0.2
  User ub
  ProxyJump a
Host c
  HostName 10.0.0.3
  ProxyCommand nc %h %p
Host t
  HostName 10.9.9.9
  ProxyJump b,c
Host loop1
  ProxyJump loop2
Host loop2
  ProxyJump loop1
Host self
  HostName self.example
Host *
  UserKnownHostsFile ${dir}/kh_default
`,
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const KEYS = [
  'hostname',
  'user',
  'port',
  'identityfile',
  'userknownhostsfile',
  'stricthostkeychecking',
  'proxyjump',
  'proxycommand',
  'addressfamily',
];

function pick(gOutput: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of gOutput.split('\n')) {
    const sp = line.indexOf(' ');
    const k = line.slice(0, sp);
    if (KEYS.includes(k)) out[k] = [...(out[k] ?? []), line.slice(sp + 1)];
  }
  return out;
}

function opensshG(args: string[]): Record<string, string[]> {
  const r = spawnSync('/usr/bin/ssh', ['-G', '-F', cfg, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return pick(r.stdout);
}

const opts = (extra: ResolveOptions = {}): ResolveOptions => ({ configFile: cfg, env: {}, ...extra });

function hops(h: HostConfig): HostConfig[] {
  return [...(h.jumpHosts ?? [])];
}

describe('ProxyJump hops resolved through the configuration', () => {
  itPosix('OpenSSH ssh -G')(
    "gives each hop its own config as `ssh -G hop` prints it; none of the target's -o/-i/-4 reach it",
    async () => {
      const t = await resolveHostConfig('t', {
        ...opts(),
        overrides: [
          ['ProxyJump', 'a'],
          ['User', 'zz'],
        ],
        identityFiles: [cfg],
        addressFamily: 'inet6',
      });
      const [a] = hops(t);
      expect(hops(t)).toHaveLength(1);
      expect(pick(formatSshG(a!))).toEqual(opensshG(['a']));
      expect(a!.hostname).toBe('10.0.0.1');
      expect(a!.user).toBe('ua');
      expect(a!.port).toBe(2201);
      expect(a!.identityFiles).toEqual([`${dir}/key_a`]);
      expect(a!.userKnownHostsFiles).toEqual([`${dir}/kh_a`]);
      expect(a!.strictHostKeyChecking).toBe('accept-new');
    },
  );

  itPosix('OpenSSH ssh -G')('takes user@ and :port of a hop spec as -l and -p', async () => {
    const t = await resolveHostConfig('t', { ...opts(), overrides: [['ProxyJump', 'uu@a:2299']] });
    const [a] = hops(t);
    expect(pick(formatSshG(a!))).toEqual(opensshG(['-l', 'uu', '-p', '2299', 'a']));
    expect([a!.user, a!.port]).toEqual(['uu', 2299]);
  });

  itPosix('OpenSSH ssh -G')(
    'lets only the first hop use its own ProxyJump/ProxyCommand; later hops get -J earlier hops',
    async () => {
      const t = await resolveHostConfig('t', opts());
      const [b, c] = hops(t);
      expect(pick(formatSshG(b!))).toEqual(opensshG(['b']));
      expect(pick(formatSshG(c!))).toEqual(opensshG(['-J', 'b', 'c']));
      // b's own ProxyJump a is its route; c's ProxyCommand is overridden by `-J b`.
      expect(hops(b!).map((h) => h.hostname)).toEqual(['10.0.0.1']);
      expect(c!.proxyCommand).toBeUndefined();
      expect(hops(c!)).toEqual([]);
      expect(runsProxyCommand(t)).toBe(false);
    },
  );

  it("uses a first hop's ProxyCommand", async () => {
    const t = await resolveHostConfig('x', { ...opts(), overrides: [['ProxyJump', 'c']] });
    expect(hops(t)[0]!.proxyCommand).toBe('nc %h %p');
    expect(runsProxyCommand(t)).toBe(true);
  });

  it('`ProxyJump none` means no hops', async () => {
    const t = await resolveHostConfig('t', { ...opts(), overrides: [['ProxyJump', 'none']] });
    expect(t.proxyJump).toEqual([]);
    expect(t.jumpHosts).toBeUndefined();
  });

  it('puts the resolved hops into the poolKey', async () => {
    const viaA = await resolveHostConfig('x', { ...opts(), overrides: [['ProxyJump', 'a']] });
    const viaUuA = await resolveHostConfig('x', { ...opts(), overrides: [['ProxyJump', 'uu@a']] });
    expect(viaA.poolKey).not.toBe(viaUuA.poolKey);
    expect(viaA.poolKey).toContain('10.0.0.1');
  });

  it('refuses a loop of first hops, naming it (ssh would recurse)', async () => {
    const err = await resolveHostConfig('loop1', opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^ProxyJump loop: loop2 -> loop1 -> loop2/);
  });

  itPosix('OpenSSH ssh -G')(
    'is not done for -G, which never looks at a hop (ssh -G prints a looping config fine)',
    async () => {
      const t = await resolveHostConfig('loop1', { ...opts(), resolveJumpHosts: false });
      expect(t.jumpHosts).toBeUndefined();
      expect(pick(formatSshG(t))).toEqual(opensshG(['loop1']));
    },
  );

  itPosix('OpenSSH ssh -G')("keeps ssh's own check: the last hop is the target itself", async () => {
    const err = await resolveHostConfig('self', {
      ...opts(),
      overrides: [['ProxyJump', 'self.example']],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('jumphost loop via self.example');
    const r = spawnSync('/usr/bin/ssh', ['-G', '-F', cfg, '-J', 'self.example', 'self'], {
      encoding: 'utf8',
    });
    expect(r.stderr).toContain('jumphost loop via self.example');
    // A hop named differently from the HostName is no loop for ssh either.
    expect(
      hops(await resolveHostConfig('self', { ...opts(), overrides: [['ProxyJump', 'self']] })),
    ).toHaveLength(1);
  });
});
