import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { startJumpTopology } from './jump-topology.js';
import { CLIENTS, type Client, pidGone, runClient, writeBridge } from './proxy-clients.js';

/**
 * ProxyJump through ssh_config, differentially: `-J alias` and chains of aliases, each hop
 * resolved through the same -F file, given to /usr/bin/ssh and to `sshmux ssh` (through its
 * daemon, as git would run it). The inner sshd is reachable only through the jump host
 * (jump-topology.ts); the main sshd is a first hop in the host namespace.
 */
let sshd: StartedSshd;
let dir: string;
let home: string;
let cfg: string;
let jumpPort: number;
let innerPort: number;

function env(client: Client): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: path.join(dir, `run-${client}`),
    SSH_AUTH_SOCK: '',
    SSHMUX_PERSIST: '2',
    PROXY_TAG: client,
  };
  delete e.SSHMUX_NO_DAEMON;
  return e;
}

beforeAll(async () => {
  sshd = await startSshd();
  ({ jumpPort, innerPort } = await startJumpTopology(sshd));
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-jumpcfg-'));
  home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  for (const c of CLIENTS) mkdirSync(path.join(dir, `run-${c}`), { mode: 0o700 });
  const known = path.join(dir, 'known_hosts');
  writeFileSync(
    known,
    [sshd.port, jumpPort, innerPort]
      .flatMap((p) => sshd.hostKeys.map((k) => `[127.0.0.1]:${p} ${k}\n`))
      .join(''),
  );
  const onlyInner = path.join(dir, 'known_inner');
  writeFileSync(onlyInner, sshd.hostKeys.map((k) => `[127.0.0.1]:${innerPort} ${k}\n`).join(''));
  const bridge = writeBridge(dir);
  cfg = path.join(dir, 'config');
  writeFileSync(
    cfg,
    [
      'Host hop1',
      '  HostName 127.0.0.1',
      `  Port ${sshd.port}`,
      'Host jump',
      '  HostName 127.0.0.1',
      `  Port ${jumpPort}`,
      // Unknown to its own known_hosts: must be refused even though the target's file knows it.
      'Host strangejump',
      '  HostName 127.0.0.1',
      `  Port ${jumpPort}`,
      `  UserKnownHostsFile ${onlyInner}`,
      // A first hop reached through its own ProxyCommand, as ssh's `ssh -W … viaproxy` would.
      'Host viaproxy',
      '  HostName 127.0.0.1',
      `  Port ${jumpPort}`,
      `  ProxyCommand ${process.execPath} ${bridge} %h %p ${dir}/hop-pid-$PROXY_TAG`,
      'Host inner inner-chain',
      '  HostName 127.0.0.1',
      `  Port ${innerPort}`,
      'Host inner-chain',
      '  ProxyJump hop1,jump',
      'Host *',
      '  User root',
      `  IdentityFile ${sshd.keyPath}`,
      `  UserKnownHostsFile ${known}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await runClient('sshmux', ['-O', 'exit'], { env: env('sshmux') }).catch(() => undefined);
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const where = 'echo $SSH_CONNECTION';

describe.each(CLIENTS)('ProxyJump through the configuration with %s', (client) => {
  it('`-J alias` resolves the hop as `ssh -G alias` (its HostName and Port)', async () => {
    const r = await runClient(client, ['-F', cfg, '-J', 'jump', 'inner', where], { env: env(client) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim().split(' ')[3]).toBe(String(innerPort));
    // sshmux relayed it through its daemon: the resolved hops crossed the wire protocol.
    if (client === 'sshmux')
      expect(existsSync(path.join(dir, 'run-sshmux', 'sshmux', 'mux.sock'))).toBe(true);
  });

  it('a two-hop chain of aliases from the config file', async () => {
    const r = await runClient(client, ['-F', cfg, 'inner-chain', where], { env: env(client) });
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim().split(' ')[3]).toBe(String(innerPort));
  });

  it('the same chain given with -J', async () => {
    const r = await runClient(client, ['-F', cfg, '-J', 'hop1,jump', 'inner', where], { env: env(client) });
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim().split(' ')[3]).toBe(String(innerPort));
  });

  it("uses the first hop's own ProxyCommand, and ends it afterwards", async () => {
    const r = await runClient(client, ['-F', cfg, '-J', 'viaproxy', 'inner', where], { env: env(client) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim().split(' ')[3]).toBe(String(innerPort));
    expect((await pidGone(path.join(dir, `hop-pid-${client}`))).gone).toBe(true);
  });

  it('refuses a hop whose host key its own known_hosts does not know', async () => {
    const r = await runClient(client, ['-F', cfg, '-J', 'strangejump', 'inner', 'echo reached'], {
      env: env(client),
    });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toContain('Host key verification failed.');
    if (client === 'sshmux') expect(r.stderr).toContain(`[127.0.0.1]:${jumpPort}`);
  });

  it('`-o ProxyJump=none` wins over the file', async () => {
    const r = await runClient(
      client,
      ['-F', cfg, '-o', 'ProxyJump=none', '-o', 'ConnectTimeout=5', 'inner-chain', 'true'],
      {
        env: env(client),
      },
    );
    // Directly, the inner port is closed in the host namespace.
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/refused/i);
  });
});
