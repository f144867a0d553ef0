import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardedAgent } from '../../../src/cli/agent-options.js';
import { onWindows } from '../../helpers/posix-only.js';

let dir: string;
let live: string;
let server: net.Server;

// An agent endpoint where the platform has them: a socket file, on Windows a named pipe.
const endpoint = (name: string) =>
  onWindows ? `\\\\.\\pipe\\${path.basename(dir)}-${name}` : path.join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-agent-unit-'));
  live = endpoint('agent.sock');
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(live, r));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const host = (forwardagent: string | undefined, identityAgent?: string) => ({
  effective: new Map(forwardagent === undefined ? [] : [['forwardagent', [forwardagent]]]),
  identityAgent,
});

describe("forwardedAgent (ssh.c's ForwardAgent and check_agent_present)", () => {
  it('yes forwards $SSH_AUTH_SOCK; no and unset forward nothing', async () => {
    const env = { SSH_AUTH_SOCK: live };
    expect(await forwardedAgent(host('yes'), env, 'linux')).toBe(live);
    expect(await forwardedAgent(host('no'), env, 'linux')).toBeUndefined();
    expect(await forwardedAgent(host(undefined), env, 'linux')).toBeUndefined();
  });

  it('a path or $VAR forwards that socket, but only while $SSH_AUTH_SOCK reaches an agent', async () => {
    const other = '/run/other-agent.sock';
    expect(await forwardedAgent(host(other), { SSH_AUTH_SOCK: live }, 'linux')).toBe(other);
    expect(await forwardedAgent(host('$OTHER'), { SSH_AUTH_SOCK: live, OTHER: other }, 'linux')).toBe(other);
    expect(await forwardedAgent(host('$OTHER'), { SSH_AUTH_SOCK: live }, 'linux')).toBeUndefined();
    expect(await forwardedAgent(host(other), {}, 'linux')).toBeUndefined();
    expect(await forwardedAgent(host('yes'), { SSH_AUTH_SOCK: endpoint('dead') }, 'linux')).toBeUndefined();
  });

  it('IdentityAgent stands in for $SSH_AUTH_SOCK (none: no agent at all)', async () => {
    expect(await forwardedAgent(host('yes', 'none'), { SSH_AUTH_SOCK: live }, 'linux')).toBeUndefined();
    expect(await forwardedAgent(host('yes', live), {}, 'linux')).toBe(live);
  });

  it("a bad $NAME is ssh's fatal error", async () => {
    await expect(forwardedAgent(host('$1BAD'), { SSH_AUTH_SOCK: live }, 'linux')).rejects.toThrow(
      'Invalid ForwardAgent environment variable name $1BAD',
    );
  });
});
