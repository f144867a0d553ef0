import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type AnyAuthMethod, type BaseAgent, type ParsedKey } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { WINDOWS_AGENT_PIPE } from '../../../src/security/agent-path.js';
import { type AuthHandler, createAuthProvider } from '../../../src/security/auth.js';
import { onWindows } from '../../helpers/posix-only.js';
import { startAgentServer } from './agent-server.js';
import { ssh2KeyPair } from './keygen.js';

// ssh2 is CommonJS; Node's ESM loader does not expose `createAgent` by name.
const { createAgent, utils } = ssh2;

// A real agent server on this platform's kind of endpoint: a socket file, on Windows (Wine
// included) a named pipe, as Win32-OpenSSH's ssh-agent listens.
const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-platform-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const endpoint = (name: string) =>
  onWindows ? `\\\\.\\pipe\\${name}-${randomBytes(4).toString('hex')}` : path.join(dir, name);
const key = utils.parseKey(ssh2KeyPair('ed25519', { comment: 'agent-key' }).private) as ParsedKey;

// No identity files, and agent keys not limited to them.
const bare = () => ({ ...plainHostConfig({ host: 'h', identityFiles: [] }), identitiesOnly: false });

// biome-ignore lint/suspicious/noExplicitAny: ssh2's callback types differ per method
function call<T>(f: (cb: (err: any, v?: any) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T))));
}

/** The keys the auth handler offers from an agent, asked as ssh2 asks. */
async function agentKeysOffered(handler: AuthHandler): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let left: string[] | null = null;
  for (;;) {
    const m = await new Promise<AnyAuthMethod | false>((resolve) => handler(left, false, resolve));
    if (m === false) return out;
    left = ['publickey'];
    if (m.type !== 'agent') continue;
    const agent = (m as { agent: BaseAgent<ParsedKey> }).agent;
    for (const k of await call<ParsedKey[]>((cb) => agent.getIdentities(cb))) out.push(k.getPublicSSH());
  }
}

describe("the agent on this platform's endpoint", () => {
  it("ssh2's agent client lists and signs through it (an OpenSSH agent pipe on Windows)", async () => {
    const server = await startAgentServer(endpoint('sshmux-agent'), [key]);
    try {
      const agent = createAgent(server.endpoint);
      // On Windows only a \\.\pipe\ name is an OpenSSH agent; other names mean Cygwin or Pageant.
      expect(agent.constructor.name).toBe('OpenSSHAgent');
      const ids = await call<ParsedKey[]>((cb) => agent.getIdentities(cb));
      expect(ids.map((k) => k.getPublicSSH())).toEqual([key.getPublicSSH()]);
      const data = randomBytes(64);
      const sig = await call<Buffer>((cb) => agent.sign(ids[0]!, data, {}, cb));
      expect(key.verify(data, sig)).toBe(true);
      expect(server.requests).toEqual([11, 13]);
    } finally {
      await server.close();
    }
  });

  it("is found with no SSH_AUTH_SOCK on Windows at Win32-OpenSSH's pipe; elsewhere only through SSH_AUTH_SOCK", async () => {
    const server = await startAgentServer(onWindows ? WINDOWS_AGENT_PIPE : endpoint('default-agent'), [key]);
    try {
      const provider = createAuthProvider({ env: onWindows ? {} : { SSH_AUTH_SOCK: server.endpoint } });
      const handler = (await provider(bare())) as AuthHandler;
      expect(await agentKeysOffered(handler)).toEqual([key.getPublicSSH()]);
      expect(server.requests[0]).toBe(11);
      if (!onWindows) {
        const none = (await createAuthProvider({ env: {} })(bare())) as AuthHandler;
        expect(await agentKeysOffered(none)).toEqual([]);
      }
    } finally {
      await server.close();
    }
  });
});
