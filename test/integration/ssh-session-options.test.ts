import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { AuthClients, type Mode } from './auth-clients.js';

// Session options of `sshmux ssh`, each compared with /usr/bin/ssh (OpenSSH 9.2) on the same
// config and argv: what ran remotely, whether the server gave a terminal, what stdin carried.
let sshd: StartedSshd;
let clients: AuthClients;
const MODES: Mode[] = ['direct', 'daemon'];

beforeAll(async () => {
  sshd = await startSshd();
  clients = new AuthClients(sshd);
});

afterAll(async () => {
  await clients?.cleanup();
  await sshd?.stop();
});

const PTS = /^\/dev\/pts\/\d+\r?$/m;

describe.each(MODES)('session options as OpenSSH 9.2 (sshmux %s)', (mode) => {
  it('RemoteCommand runs without a command line, its tokens expanded as ssh expands them', async () => {
    const args = ['-o', 'RemoteCommand=echo %r@%h:%p %n %% $USER'];
    const ssh = await clients.run('ssh', args, undefined);
    const ours = await clients.run(mode, args, undefined);
    expect(ssh).toMatchObject({ code: 0, stdout: `backup@127.0.0.1:${sshd.port} target % backup\n` });
    expect(ours).toMatchObject({ code: 0, stdout: ssh.stdout });
  });

  it('RemoteCommand: every client token (%C %L %i %k %l %d %u) as ssh expands it', async () => {
    const args = ['-o', 'RemoteCommand=echo %C %L %i %k %l %d %u'];
    const ssh = await clients.run('ssh', args, undefined);
    const ours = await clients.run(mode, args, undefined);
    expect(ssh.code).toBe(0);
    expect(ours).toMatchObject({ code: 0, stdout: ssh.stdout });
  });

  it('RemoteCommand and a command line: "Cannot execute command-line and remote command.", 255', async () => {
    const args = ['-o', 'RemoteCommand=echo remote'];
    const ssh = await clients.run('ssh', args, 'echo line');
    const ours = await clients.run(mode, args, 'echo line');
    expect(ssh.code).toBe(255);
    expect(ssh.stderr).toContain('Cannot execute command-line and remote command.');
    expect(ours).toMatchObject({ code: 255, stdout: '' });
    expect(ours.stderr).toContain('Cannot execute command-line and remote command.');
  });

  it('RemoteCommand none is no RemoteCommand', async () => {
    const args = ['-o', 'RemoteCommand=none'];
    const ssh = await clients.run('ssh', args, 'echo line');
    const ours = await clients.run(mode, args, 'echo line');
    expect(ssh).toMatchObject({ code: 0, stdout: 'line\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'line\n' });
  });

  it('RequestTTY force from the config gets a pty even without a local terminal', async () => {
    const args = ['-o', 'RequestTTY=force'];
    const ssh = await clients.run('ssh', args, 'tty');
    const ours = await clients.run(mode, args, 'tty');
    expect(ssh.code).toBe(0);
    expect(ssh.stdout).toMatch(PTS);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toMatch(PTS);
  });

  it('a session with a pty ends with "Connection to HOST closed." on stderr, not with -q', async () => {
    const args = ['-o', 'RequestTTY=force'];
    const ssh = await clients.run('ssh', args, 'true');
    const ours = await clients.run(mode, args, 'true');
    expect(ssh.stderr).toBe('Connection to 127.0.0.1 closed.\n');
    expect(ours.stderr).toBe(ssh.stderr);
    const quiet = await clients.run(mode, [...args, '-q'], 'true');
    expect(quiet.stderr).toBe('');
    const level = await clients.run(mode, [...args, '-o', 'LogLevel=ERROR'], 'true');
    expect(level.stderr).toBe('');
    expect((await clients.run('ssh', [...args, '-o', 'LogLevel=ERROR'], 'true')).stderr).toBe('');
    expect((await clients.run('ssh', [...args, '-q'], 'true')).stderr).toBe('');
  });

  it('RequestTTY yes without a local terminal: no pty, and ssh says why', async () => {
    const args = ['-o', 'RequestTTY=yes'];
    const ssh = await clients.run('ssh', args, 'tty');
    const ours = await clients.run(mode, args, 'tty');
    const notice = 'Pseudo-terminal will not be allocated because stdin is not a terminal.\n';
    expect(ssh).toMatchObject({ code: 1, stdout: 'not a tty\n', stderr: notice });
    expect(ours).toMatchObject({ code: 1, stdout: 'not a tty\n', stderr: notice });
  });

  it.each([
    [['-o', 'RequestTTY=yes'], true],
    [['-t'], true],
    [['-T', '-o', 'RequestTTY=force'], false],
    [['-t', '-o', 'RequestTTY=no'], true],
    [[], false],
    [['-o', 'RequestTTY=auto'], false],
    [['-t', '-n'], false],
  ])('on a terminal, %j gives a pty: %s (as ssh)', async (args, pty) => {
    const ssh = await clients.run('ssh', args, 'tty', {}, { terminal: true });
    const ours = await clients.run(mode, args, 'tty', {}, { terminal: true });
    expect(PTS.test(ssh.stdout)).toBe(pty);
    expect(PTS.test(ours.stdout)).toBe(pty);
    expect(ours.stdout.includes('not a tty')).toBe(!pty);
  });

  it('StdinNull yes: the remote reads end-of-file, not our stdin (as -n)', async () => {
    for (const args of [['-o', 'StdinNull=yes'], ['-n']]) {
      const ssh = await clients.run('ssh', args, 'cat; echo end', {}, { input: 'local data\n' });
      const ours = await clients.run(mode, args, 'cat; echo end', {}, { input: 'local data\n' });
      expect(ssh).toMatchObject({ code: 0, stdout: 'end\n' });
      expect(ours).toMatchObject({ code: 0, stdout: 'end\n' });
    }
    const piped = await clients.run(mode, [], 'cat; echo end', {}, { input: 'local data\n' });
    expect(piped.stdout).toBe('local data\nend\n');
  });

  it('LocalCommand with PermitLocalCommand yes: run locally after authentication, before the command', async () => {
    // The sleep shows the order: the remote command starts only once LocalCommand is done.
    const args = ['-o', 'PermitLocalCommand=yes', '-o', 'LocalCommand=sleep 0.5; echo local %n %r %T %%'];
    const ssh = await clients.run('ssh', args, 'echo remote');
    const ours = await clients.run(mode, args, 'echo remote');
    expect(ssh).toMatchObject({ code: 0, stdout: 'local target backup NONE %\nremote\n' });
    expect(ours).toMatchObject({ code: 0, stdout: ssh.stdout });
    if (mode === 'daemon') {
      // Through the daemon for real: a second run reuses its pooled connection (no new login).
      const logins = await sshd.countLogins();
      expect(await clients.run(mode, args, 'echo remote')).toMatchObject({ stdout: ssh.stdout });
      expect(await sshd.countLogins()).toBe(logins);
    }
  });

  it('LocalCommand without PermitLocalCommand, or failing, changes nothing', async () => {
    for (const args of [
      ['-o', 'LocalCommand=echo local'],
      ['-o', 'PermitLocalCommand=yes', '-o', 'LocalCommand=exit 3'],
    ]) {
      const ssh = await clients.run('ssh', args, 'echo remote');
      const ours = await clients.run(mode, args, 'echo remote');
      expect(ssh).toMatchObject({ code: 0, stdout: 'remote\n' });
      expect(ours).toMatchObject({ code: 0, stdout: 'remote\n' });
    }
  });

  it('ClearAllForwardings yes clears forwards given with -o, as in ssh', async () => {
    const args = ['-o', 'ClearAllForwardings=yes', '-o', 'LocalForward=12345 127.0.0.1:22'];
    const ssh = await clients.run('ssh', args, 'echo ok');
    const ours = await clients.run(mode, args, 'echo ok');
    expect(ssh).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(ours).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  // SessionType and ForkAfterAuthentication are honoured: ssh-subsystem.test.ts, ssh-fork.test.ts.
  it('-o SessionType=subsystem: the command names the subsystem, as ssh', async () => {
    const ssh = await clients.run('ssh', ['-o', 'SessionType=subsystem'], 'echo ran');
    const ours = await clients.run(mode, ['-o', 'SessionType=subsystem'], 'echo ran');
    expect(ssh).toMatchObject({ code: 255, stdout: '', stderr: 'subsystem request failed on channel 0\n' });
    expect(ours).toMatchObject({ code: 255, stdout: '', stderr: ssh.stderr });
  });

  it.each([
    ['ForwardX11=yes', 'ForwardX11 yes'],
    ['Tunnel=yes', 'Tunnel point-to-point'],
  ])('-o %s is refused by name with 255, before connecting', async (option, name) => {
    const before = await sshd.countLogins();
    const r = await clients.run(mode, ['-o', option], 'echo ran');
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    // The value as ssh -G prints it, then the refusal.
    expect(r.stderr).toMatch(new RegExp(`${name}( \\S.*)? is not supported by sshmux`));
    expect(await sshd.countLogins()).toBe(before);
  });
});
