import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { CLIENTS, type Client, runClient } from './proxy-clients.js';

/**
 * KnownHostsCommand, differentially: the same command given to /usr/bin/ssh and `sshmux ssh`
 * must be run with the same arguments (every invocation logged), its lines must be what makes
 * the host key known, and a command that fails must fail the connection, with no known_hosts
 * file at all.
 */
let sshd: StartedSshd;
let dir: string;
let home: string;
let script: string;
let lines: string;

function env(client: Client, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_RUNTIME_DIR: path.join(dir, `run-${client}`),
    SSH_AUTH_SOCK: '',
    KHC_LOG: path.join(dir, `log-${client}`),
    KHC_LINES: lines,
    KHC_TAG: `tag-${client}`,
    ...extra,
  };
  delete e.SSHMUX_NO_DAEMON;
  return e;
}

const args = (command: string): string[] => [
  '-F',
  'none',
  '-i',
  sshd.keyPath,
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'GlobalKnownHostsFile=/dev/null',
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'BatchMode=yes',
  '-o',
  `KnownHostsCommand=${command}`,
  '-p',
  String(sshd.port),
  'root@127.0.0.1',
  'echo reached',
];

beforeAll(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-khc-'));
  home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  for (const c of CLIENTS) mkdirSync(path.join(dir, `run-${c}`), { mode: 0o700 });
  lines = path.join(dir, 'lines');
  writeFileSync(lines, sshd.hostKeys.map((k) => `[127.0.0.1]:${sshd.port} ${k}\n`).join(''));
  script = path.join(dir, 'khc.sh');
  writeFileSync(
    script,
    '#!/bin/sh\nprintf "%s|" "$@" >> "$KHC_LOG"; echo >> "$KHC_LOG"\n[ -n "$KHC_FAIL" ] && exit "$KHC_FAIL"\ncat "$KHC_LINES"\n',
  );
  chmodSync(script, 0o755);
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function logOf(client: Client): string[] {
  return readFileSync(path.join(dir, `log-${client}`), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.replaceAll(`tag-${client}`, 'TAG'));
}

describe('KnownHostsCommand', () => {
  it('is run with the same arguments by both clients, and its lines make the key known', async () => {
    const results = [];
    for (const client of CLIENTS) {
      const r = await runClient(client, args(`${script} %I %H %t %f %h %p %r %n %% \${KHC_TAG}`), {
        env: env(client),
      });
      results.push(r);
      expect(r.stdout.toString()).toBe('reached\n');
      expect(r.code).toBe(0);
    }
    const [ssh, ours] = CLIENTS.map(logOf);
    expect(ours).toEqual(ssh);
    // ORDER (no key yet) then HOSTNAME with the offered key, as sshconnect2.c/sshconnect.c.
    expect(ssh?.[0]).toMatch(/^ORDER\|127\.0\.0\.1\|NONE\|NONE\|/);
    expect(ssh?.[1]).toMatch(
      new RegExp(`^HOSTNAME\\|\\[127\\.0\\.0\\.1\\]:${sshd.port}\\|ssh-ed25519\\|SHA256:`),
    );
  });

  it.each(CLIENTS)('a command that exits non-zero fails the connection with 255 (%s)', async (client) => {
    const r = await runClient(client, args(`${script} %H`), { env: env(client, { KHC_FAIL: '3' }) });
    expect(r.code).toBe(255);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr).toContain('KnownHostsCommand failed');
  });

  it.each(CLIENTS)('a relative program is not run: the key stays unknown (%s)', async (client) => {
    const r = await runClient(client, args('khc.sh %H'), { env: env(client), cwd: dir });
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Host key verification failed.');
  });
});
