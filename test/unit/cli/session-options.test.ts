import { describe, expect, it } from 'vitest';
import { planSession, wantsPty } from '../../../src/cli/session-options.js';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { resolveHostConfig } from '../../../src/config/resolve.js';

function host(options: Record<string, string>): HostConfig {
  const effective = new Map(Object.entries(options).map(([k, v]) => [k, [v]] as const));
  return { ...plainHostConfig({ host: 'h.example', user: 'bob', port: 2200 }), effective };
}

const noArgs = { command: [] as string[], requestTty: 'auto' as const, nullStdin: false };

describe('planSession (ssh.c main)', () => {
  it('uses the command words, or RemoteCommand with its tokens expanded once', async () => {
    expect(planSession({ ...noArgs, command: ['ls', '-l'] }, host({})).command).toBe('ls -l');
    // The configuration expands the tokens (as ssh.c before -G prints it); a `%%` stays one `%`.
    const resolved = await resolveHostConfig('h.example', {
      configFile: 'none',
      user: 'bob',
      port: 2200,
      overrides: [['RemoteCommand', 'echo %r@%h:%p %n %%h']],
    });
    expect(planSession(noArgs, resolved).command).toBe('echo bob@h.example:2200 h.example %h');
    expect(planSession({ ...noArgs, command: ['x'] }, host({ remotecommand: 'none' })).command).toBe('x');
  });

  it('refuses a command line together with RemoteCommand in ssh words', () => {
    expect(() => planSession({ ...noArgs, command: ['x'] }, host({ remotecommand: 'y' }))).toThrow(
      'Cannot execute command-line and remote command.',
    );
  });

  it('-t/-T win over RequestTTY; StdinNull is -n', () => {
    expect(planSession(noArgs, host({ requesttty: 'force' })).requestTty).toBe('force');
    expect(planSession({ ...noArgs, requestTty: 'no' }, host({ requesttty: 'force' })).requestTty).toBe('no');
    expect(planSession(noArgs, host({ requesttty: 'true' })).requestTty).toBe('yes');
    expect(() => planSession(noArgs, host({ requesttty: 'maybe' }))).toThrow(/RequestTTY/);
    expect(planSession(noArgs, host({ stdinnull: 'yes' })).stdinNull).toBe(true);
    expect(planSession({ ...noArgs, nullStdin: true }, host({})).stdinNull).toBe(true);
  });

  it('LocalCommand only with PermitLocalCommand, with %T as NONE', () => {
    expect(planSession(noArgs, host({ localcommand: 'echo %n' })).localCommand).toBeUndefined();
    const plan = planSession(noArgs, host({ localcommand: 'echo %n %T', permitlocalcommand: 'yes' }));
    expect(plan.localCommand).toBe('echo h.example NONE');
  });

  it.each([
    ['forwardx11', 'yes', 'ForwardX11 yes'],
    ['tunnel', 'point-to-point', 'Tunnel point-to-point'],
  ])('refuses %s %s by name', (k, v, name) => {
    expect(() => planSession({ ...noArgs, command: ['x'] }, host({ [k]: v }))).toThrow(
      `${name} is not supported by sshmux`,
    );
  });

  it.each([
    [{ sessiontype: 'none' }, 'none', false],
    [{ sessiontype: 'subsystem' }, 'subsystem', false],
    [{ forkafterauthentication: 'yes' }, 'default', true],
    [{}, 'default', false],
  ])('SessionType and ForkAfterAuthentication are planned: %j', (keys, sessionType, fork) => {
    const plan = planSession({ ...noArgs, command: ['x'] }, host(keys));
    expect(plan).toMatchObject({ sessionType, fork });
  });

  it('refuses a SessionType readconf.c would not take', () => {
    expect(() => planSession({ ...noArgs, command: ['x'] }, host({ sessiontype: 'shell' }))).toThrow(
      'SessionType: unsupported option "shell"',
    );
  });

  it('defaults as ssh -G prints them are accepted; ClearAllForwardings clears forwards', () => {
    const defaults = host({
      sessiontype: 'default',
      forkafterauthentication: 'no',
      forwardagent: 'no',
      forwardx11: 'no',
      tunnel: 'false',
      clearallforwardings: 'no',
    });
    expect(planSession({ ...noArgs, command: ['x'] }, defaults).command).toBe('x');
    const cleared = host({ remoteforward: '1 h:2', clearallforwardings: 'yes' });
    // Forwards are the forwarding layer's (cli/ssh-forwarding.ts, forward/remote-*), not refused.
    expect(planSession({ ...noArgs, command: ['x'] }, host({ localforward: '1 h:2' })).command).toBe('x');
    expect(planSession({ ...noArgs, command: ['x'] }, host({ remoteforward: '1 h:2' })).command).toBe('x');
    expect(planSession({ ...noArgs, command: ['x'] }, cleared).command).toBe('x');
  });
});

describe('wantsPty (ssh.c tty_flag)', () => {
  const plan = (requestTty: 'auto' | 'no' | 'yes' | 'force', stdinNull = false, command = 'x') => ({
    command,
    requestTty,
    stdinNull,
    localCommand: undefined,
  });
  it.each([
    ['auto', true, false, false],
    ['yes', true, false, true],
    ['yes', false, false, false],
    ['yes', true, true, false],
    ['force', false, true, true],
    ['no', true, false, false],
  ] as const)('RequestTTY %s, stdin tty %s, -n %s → pty %s', (tty, isTty, nul, want) => {
    expect(wantsPty(plan(tty, nul), isTty).pty).toBe(want);
  });
  it('says why when a requested pty is not allocated', () => {
    expect(wantsPty(plan('yes'), false).notice).toBe(
      'Pseudo-terminal will not be allocated because stdin is not a terminal.',
    );
    expect(wantsPty(plan('auto'), false).notice).toBeUndefined();
  });
  it.each([
    ['auto', true, false, true, false],
    ['auto', false, false, false, true],
    ['auto', true, true, false, true],
    ['yes', true, false, true, false],
    ['no', true, false, false, false],
    ['no', false, false, false, false],
    ['force', false, false, true, false],
    ['force', true, true, true, false],
  ] as const)(
    'no command: RequestTTY %s, stdin tty %s, -n %s → pty %s, notice %s',
    (tty, isTty, nul, want, notice) => {
      const decision = wantsPty(plan(tty, nul, ''), isTty);
      expect(decision.pty).toBe(want);
      expect(decision.notice !== undefined).toBe(notice);
    },
  );
});

describe('agent and remote forwarding reach the session (no longer refused)', () => {
  it.each([
    ['forwardagent', '/run/agent.sock'],
    ['forwardagent', 'yes'],
    ['remoteforward', '8080 [h]:80'],
  ])('%s %s', (k, v) => {
    expect(planSession({ ...noArgs, command: ['x'] }, host({ [k]: v })).command).toBe('x');
  });
});
