import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, runProgram } from '../helpers/cli.js';

// A connect that fails is reported in sshconnect.c's own words (programs that call ssh, such
// as git and Ansible, show or match them): the same bytes and status as /usr/bin/ssh, through
// the daemon and in-process, and silent with -q or LogLevel QUIET.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-connect-errors-'));
const home = path.join(dir, 'home');
mkdirSync(home, { mode: 0o700 });
const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_RUNTIME_DIR: dir, SSH_AUTH_SOCK: '' };
delete env.SSHMUX_NO_DAEMON;
delete env.SSHMUX_RUNTIME_DIR;

afterAll(async () => {
  await runCli(['ssh', '-O', 'exit'], { env });
  rmSync(dir, { recursive: true, force: true });
});

/** A port on 127.0.0.1 nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const BASE = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'UserKnownHostsFile=/dev/null'];

describe.each(['daemon', 'in-process'])('a failed connect, worded as ssh (%s)', (mode) => {
  const ours = (argv: string[]) =>
    runCli(['ssh', ...argv], { env: { ...env, ...(mode === 'in-process' && { SSHMUX_NO_DAEMON: '1' }) } });
  const theirs = (argv: string[]) => runProgram('/usr/bin/ssh', argv, { env });

  it.each([
    ['a refused port', async () => ['-p', String(await closedPort()), '127.0.0.1', 'true']],
    ['a name that does not resolve', async () => ['nosuchhost.invalid', 'true']],
    ['-q', async () => ['-q', '-p', String(await closedPort()), '127.0.0.1', 'true']],
    [
      'LogLevel QUIET',
      async () => ['-o', 'LogLevel=QUIET', '-p', String(await closedPort()), '127.0.0.1', 'true'],
    ],
  ])('%s', async (_name, argv) => {
    const args = [...BASE, ...(await argv())];
    const [ssh, us] = [await theirs(args), await ours(args)];
    expect(ssh.code).toBe(255);
    expect({ code: us.code, stderr: us.stderr, stdout: us.stdout.toString() }).toEqual({
      code: ssh.code,
      stderr: ssh.stderr,
      stdout: ssh.stdout.toString(),
    });
  });
});
