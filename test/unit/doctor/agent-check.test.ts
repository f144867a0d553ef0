import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { agentCheck } from '../../../src/doctor/agent-check.js';
import { describePosix, onWindows } from '../../helpers/posix-only.js';

// Against OpenSSH's own ssh-agent: the socket, the key count and fingerprints as ssh-add -l prints them.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-agent-check-'));
const sock = path.join(dir, 'agent.sock');
let agentPid: number | undefined;

beforeAll(() => {
  if (onWindows) return;
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
  const key = path.join(dir, 'id_ed25519');
  writeFileSync(key, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
});
afterAll(() => {
  if (agentPid) process.kill(agentPid);
  rmSync(dir, { recursive: true, force: true });
});

describePosix('OpenSSH ssh-agent and ssh-add')('agentCheck', () => {
  it('asks the agent SSH_AUTH_SOCK names: its keys with the fingerprints ssh-add -l prints', async () => {
    const c = await agentCheck({ identityAgent: undefined }, { SSH_AUTH_SOCK: sock }, 'linux');
    expect(c.status).toBe('ok');
    const listed = execFileSync('ssh-add', ['-l'], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      encoding: 'utf8',
    });
    const fingerprint = /SHA256:\S+/.exec(listed)![0];
    expect(c.summary).toContain(`agent at ${sock} (SSH_AUTH_SOCK): 1 key(s): ED25519 ${fingerprint}`);
    expect(c.data?.keys).toHaveLength(1);
  });

  it('IdentityAgent wins over SSH_AUTH_SOCK; none means no agent', async () => {
    const c = await agentCheck({ identityAgent: sock }, { SSH_AUTH_SOCK: '/nowhere' }, 'linux');
    expect(c.summary).toContain(`(IdentityAgent ${sock}): 1 key(s)`);
    const none = await agentCheck({ identityAgent: 'none' }, { SSH_AUTH_SOCK: sock }, 'linux');
    expect(none.summary).toBe('no agent: IdentityAgent none');
  });

  it('an agent that does not answer is a warning with what to do', async () => {
    const c = await agentCheck(
      { identityAgent: undefined },
      { SSH_AUTH_SOCK: path.join(dir, 'gone.sock') },
      'linux',
    );
    expect(c.status).toBe('warn');
    expect(c.summary).toMatch(/does not answer: .* \(no such socket\)$/);
    expect(c.advice).toContain('ssh-agent');
  });
});
