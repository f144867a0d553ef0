import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

// Ansible (Debian's ansible-core) with `ansible_ssh_executable` set to `sshmux ssh`: its modules
// run over exec sessions, its files go through OpenSSH's sftp with sshmux as sftp's -S program
// (`ansible_sftp_extra_args=-S …`).
let sshd: StartedSshd;
let clients: AuthClients;
let work: string;
const MODES: Mode[] = ['direct', 'daemon'];

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
  work = mkdtempSync(path.join(clients.sandbox.runtimeDir, 'ansible-'));
});

afterAll(async () => {
  await clients?.cleanup();
  await sshd?.stop();
});

/** `sshmux ssh -F <config> "$@"`, noting each argv so the test knows what went through sshmux. */
function wrapper(mode: Mode): { file: string; calls: () => string[] } {
  const file = path.join(work, `ssh-${mode}`);
  const log = path.join(work, `calls-${mode}.log`);
  rmSync(log, { force: true });
  const env = mode === 'direct' ? 'SSHMUX_NO_DAEMON=1 ' : '';
  writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n${env}exec '${process.execPath}' '${CLI}' ssh -F '${clients.config}' "$@"\n`,
    { mode: 0o755 },
  );
  return {
    file,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

function ansible(ssh: string, module: string, args?: string) {
  return runProgram(
    '/usr/bin/ansible',
    [
      '-i',
      'target,',
      'all',
      '-e',
      `ansible_ssh_executable=${ssh}`,
      // ansible-core 2.14 runs sftp without -S: a user points it at sshmux through sftp's own option.
      '-e',
      `ansible_sftp_extra_args='-S ${ssh}'`,
      '-e',
      'ansible_python_interpreter=/usr/bin/python3',
      '-m',
      module,
      ...(args === undefined ? [] : ['-a', args]),
    ],
    {
      env: clients.sandbox.env({ ANSIBLE_SSH_TRANSFER_METHOD: 'sftp', ANSIBLE_NOCOLOR: '1' }),
      cwd: work,
      timeoutMs: 120_000,
    },
  );
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe.each(MODES)('Ansible through sshmux ssh (%s)', (mode) => {
  it('ping, copy and fetch: modules over exec, files over sftp -S sshmux, byte-identical', async () => {
    const ssh = wrapper(mode);
    const ping = await ansible(ssh.file, 'ping');
    expect(ping.stdout.toString()).toContain('"ping": "pong"');
    expect(ping.code).toBe(0);

    const data = randomBytes(256 * 1024);
    const src = path.join(work, `payload-${mode}`);
    writeFileSync(src, data);
    const dest = `/home/backup/ansible-${mode}`;
    const copy = await ansible(ssh.file, 'copy', `src=${src} dest=${dest} mode=0640`);
    expect(copy.code).toBe(0);
    expect((await sshd.sh(`sha256sum ${dest}`)).split(' ')[0]).toBe(sha256(data));
    expect((await sshd.sh(`stat -c %a ${dest}`)).trim()).toBe('640');

    const fetched = await ansible(ssh.file, 'fetch', `src=${dest} dest=${work}/fetched-${mode} flat=yes`);
    expect(fetched.code).toBe(0);
    expect(sha256(readFileSync(path.join(work, `fetched-${mode}`)))).toBe(sha256(data));
    // The transfers went through sshmux as sftp's -S program (`-s … sftp`), not OpenSSH's ssh.
    expect(ssh.calls().some((c) => c.split(' ').includes('-s') && c.endsWith(' sftp'))).toBe(true);
  });
});
