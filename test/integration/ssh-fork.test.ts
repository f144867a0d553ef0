import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

// -f (ForkAfterAuthentication) and -N -f, compared with /usr/bin/ssh (OpenSSH 9.2): the parent
// returns once authenticated, the session goes on in the background with stdin from /dev/null.
let sshd: StartedSshd;
let clients: AuthClients;
const MODES: Mode[] = ['direct', 'daemon'];

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
});

afterAll(async () => {
  for (const pid of backgroundPids()) process.kill(pid, 'SIGKILL');
  await clients?.cleanup();
  await sshd?.stop();
});

/** Our background copies: processes whose command line names this test's config file. */
function backgroundPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.includes(CLI) && argv.includes(clients.config)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Run a client with stdout and stderr to a file (a background copy keeps writing there). */
function runToFile(
  client: 'ssh' | Mode,
  args: string[],
  out: string,
  input = '',
): Promise<{ code: number | null; output: () => string }> {
  const argv =
    client === 'ssh'
      ? ['/usr/bin/ssh', '-F', clients.config, ...args]
      : [process.execPath, CLI, 'ssh', '-F', clients.config, ...args];
  const fd = openSync(out, 'w');
  const env = clients.sandbox.env(client === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
  const child = spawn('setsid', ['-w', ...argv], { env, stdio: ['pipe', fd, fd] });
  closeSync(fd);
  child.stdin?.on('error', () => {});
  child.stdin?.end(input);
  return new Promise((resolve) => {
    child.on('close', (code) => resolve({ code, output: () => readFileSync(out, 'utf8') }));
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await sleep(100);
  }
}

describe.each(MODES)('-f as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it('returns 0 once authenticated while the command goes on, its stdin /dev/null, its output kept', async () => {
    for (const client of ['ssh', mode] as const) {
      const go = `/tmp/go-${mode}-${client}`;
      // The remote command cannot finish before the test lets it: the parent's exit proves the fork.
      const command = `cat; while [ ! -e ${go} ]; do sleep 0.1; done; echo finished; echo err >&2`;
      const out = path.join(clients.sandbox.runtimeDir, `fork-${mode}-${client}.out`);
      const r = await runToFile(client, ['-f', 'target', command], out, 'local stdin\n');
      expect(r.code).toBe(0);
      expect(r.output()).toBe('');
      await sshd.sh(`touch ${go}`);
      await waitFor(() => r.output().includes('err'));
      expect(r.output()).toBe('finished\nerr\n');
    }
    await waitFor(() => backgroundPids().length === 0);
  });

  it('-f without a command: ssh words, 255; a failed login: 255 from the foreground', async () => {
    const ssh = await clients.run('ssh', ['-f'], undefined);
    const ours = await clients.run(mode, ['-f'], undefined);
    expect(ssh).toMatchObject({
      code: 255,
      stderr: 'Cannot fork into background without a command to execute.\n',
    });
    expect(ours).toMatchObject({ code: 255, stderr: ssh.stderr });
    const sshBad = await clients.run('ssh', ['-f', '-o', 'User=nobody'], 'true');
    const oursBad = await clients.run(mode, ['-f', '-o', 'User=nobody'], 'true');
    expect(sshBad.code).toBe(255);
    expect(oursBad.code).toBe(255);
    expect(oursBad.stderr).toContain('Permission denied (publickey)');
  });

  it('what ssh says before its fork is said once, not again by the background copy', async () => {
    const outputs: string[] = [];
    for (const client of ['ssh', mode] as const) {
      const out = path.join(clients.sandbox.runtimeDir, `warn-${mode}-${client}.out`);
      const r = await runToFile(client, ['-f', '-i', '/nonexistent/key', '-t', 'target', 'echo done'], out);
      expect(r.code).toBe(0);
      await waitFor(() => r.output().includes('done'));
      outputs.push(r.output());
    }
    await waitFor(() => backgroundPids().length === 0);
    expect(outputs[0]).toContain('Warning: Identity file /nonexistent/key not accessible');
    expect(outputs[1]!.replace(/\r\n/g, '\n')).toBe(outputs[0]!.replace(/\r\n/g, '\n'));
  });

  it("after the fork ssh's own messages go nowhere (its stderr is /dev/null), the session's output still shows", async () => {
    const outputs: string[] = [];
    for (const client of ['ssh', mode] as const) {
      const out = path.join(clients.sandbox.runtimeDir, `quiet-${mode}-${client}.out`);
      // A pty session ends with "Connection to … closed." — written by the foreground only.
      const r = await runToFile(client, ['-f', '-tt', 'target', 'sleep 0.3; echo done'], out);
      expect(r.code).toBe(0);
      await waitFor(() => r.output().includes('done'));
      await waitFor(() => backgroundPids().length === 0);
      outputs.push(r.output());
    }
    expect(outputs[0]).toBe('done\r\n');
    expect(outputs[1]).toBe(outputs[0]);
  });

  it('-N -f: back at once with 0, the connection held in the background (one login)', async () => {
    await clients.sandbox.run(['-O', 'exit', 'x']).catch(() => undefined);
    const before = await sshd.countLogins('backup');
    const out = path.join(clients.sandbox.runtimeDir, `nf-${mode}.out`);
    const r = await runToFile(mode, ['-N', '-f', 'target'], out);
    expect(r.code).toBe(0);
    expect(await sshd.countLogins('backup')).toBe(before + 1);
    expect(backgroundPids()).toHaveLength(1);
    if (mode === 'daemon') {
      // The daemon holds the connection; `-O exit` ends it and the background client with it.
      const exit = await clients.sandbox.run(['-O', 'exit', 'x']);
      expect(exit.stderr).toBe('Exit request sent.\n');
    } else {
      // In-process it runs until killed, as ssh -N -f does.
      await sleep(1_000);
      expect(backgroundPids()).toHaveLength(1);
      process.kill(backgroundPids()[0]!, 'SIGTERM');
    }
    await waitFor(() => backgroundPids().length === 0);
    expect(await sshd.countLogins('backup')).toBe(before + 1);
    expect(r.output()).toBe('');
  });
});
