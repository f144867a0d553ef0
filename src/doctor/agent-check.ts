import { stat } from 'node:fs/promises';
import ssh2, { type BaseAgent } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import { agentPathFor } from '../security/agent-path.js';
import { displayKeyType, fingerprintSha256 } from '../security/fingerprint.js';
import { check, type DoctorCheck } from './types.js';

const { createAgent, utils } = ssh2;

/** The agent's keys as `TYPE SHA256:… comment`, or why it could not be asked. */
async function agentKeys(path: string, timeoutMs: number): Promise<string[]> {
  const agent: BaseAgent = createAgent(path);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    agent.getIdentities((err, keys) => {
      clearTimeout(timer);
      if (err) return reject(err);
      const out: string[] = [];
      for (const k of keys ?? []) {
        const p = utils.parseKey(k as Buffer);
        if (p instanceof Error || Array.isArray(p)) continue;
        out.push(
          `${displayKeyType(p.type)} ${fingerprintSha256(p.getPublicSSH())}${p.comment ? ` ${p.comment}` : ''}`,
        );
      }
      resolve(out);
    });
  });
}

/** ssh2 says only "Failed to connect to agent": what the path is, when that says more. */
async function socketProblem(path: string, platform: NodeJS.Platform): Promise<string> {
  if (platform === 'win32') return '';
  try {
    return (await stat(path)).isSocket() ? '' : ' (not a socket)';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? ' (no such socket)'
      : ` (${(err as Error).message})`;
  }
}

/** The agent a host would use (IdentityAgent, else SSH_AUTH_SOCK, else Windows' OpenSSH pipe): reachable, and how many keys. */
export async function agentCheck(
  host: Pick<HostConfig, 'identityAgent'>,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  timeoutMs = 5_000,
): Promise<DoctorCheck> {
  const path = agentPathFor(host, env, platform);
  const source =
    host.identityAgent !== undefined && host.identityAgent !== 'SSH_AUTH_SOCK'
      ? `IdentityAgent ${host.identityAgent}`
      : env.SSH_AUTH_SOCK
        ? 'SSH_AUTH_SOCK'
        : 'the Windows OpenSSH agent pipe';
  if (path === undefined) {
    return check({
      section: 'agent',
      id: 'agent',
      status: 'ok',
      summary:
        host.identityAgent === 'none'
          ? 'no agent: IdentityAgent none'
          : 'no agent: SSH_AUTH_SOCK is not set; only key files are offered',
      data: { path: null, keys: [] },
    });
  }
  try {
    const keys = await agentKeys(path, timeoutMs);
    return check({
      section: 'agent',
      id: 'agent',
      status: 'ok',
      summary: `agent at ${path} (${source}): ${keys.length} key(s)${keys.length > 0 ? `: ${keys.join('; ')}` : ' (add one with `ssh-add`)'}`,
      data: { path, source, keys },
    });
  } catch (err) {
    const why = `${(err as Error).message}${await socketProblem(path, platform)}`;
    return check({
      section: 'agent',
      id: 'agent',
      status: 'warn',
      summary: `agent at ${path} (${source}) does not answer: ${why}`,
      advice:
        platform === 'win32'
          ? 'start the "OpenSSH Authentication Agent" service (`Start-Service ssh-agent`), or unset SSH_AUTH_SOCK'
          : 'start one (`eval "$(ssh-agent)"` and `ssh-add`), or unset SSH_AUTH_SOCK so it is not tried',
      data: { path, source, error: why },
    });
  }
}
