import ssh2, { type AnyAuthMethod, type BaseAgent, type ParsedKey } from 'ssh2';
import { DEFAULT_AUTH_SETTINGS } from '../config/auth-options.js';
import type { HostConfig } from '../config/host-config.js';
import { SshmuxError } from '../errors.js';
import type { Logger } from '../logger.js';
import { agentPathFor } from './agent-path.js';
import type { AuthReport } from './auth-report.js';
import { displayKeyType, fingerprintSha256 } from './fingerprint.js';
import {
  identityExists,
  loadPrivateKey,
  readIdentityPublicBlob,
  unprotectedKeyWarning,
} from './identity-files.js';
import { OfferedIdentity } from './offered-identity.js';
import type { PassphraseSource } from './passphrase.js';
import { rsaLengthAllowed } from './rsa-size.js';

// ssh2 is CommonJS; Node's ESM loader does not expose `utils` by name.
const { utils } = ssh2;

/** Set on errors that mean "a person must be asked": they stop the connect instead of skipping a key. */
export const PROMPT_CODE = 'SSHMUX_ERR_AUTH_PROMPT';

function agentIdentities(agent: BaseAgent): Promise<ParsedKey[]> {
  return new Promise((resolve, reject) => {
    agent.getIdentities((err, keys) => {
      if (err) return reject(err);
      const parsed: ParsedKey[] = [];
      for (const k of keys ?? []) {
        const p = utils.parseKey(k as Buffer);
        if (!(p instanceof Error) && !Array.isArray(p)) parsed.push(p);
      }
      resolve(parsed);
    });
  });
}

function describeKey(key: ParsedKey): string {
  return `${displayKeyType(key.type)} ${fingerprintSha256(key.getPublicSSH())}`;
}

interface FileIdentity {
  file: string;
  blob: Buffer | undefined;
}

/** One key's turn: its request, or undefined when the key cannot be used (skipped, with a note). */
export type KeyTurn = () => Promise<AnyAuthMethod | undefined>;

export interface KeyContext {
  log: Logger;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  openAgent: (path: string) => BaseAgent;
  passphrase: PassphraseSource | undefined;
  withoutDeadline: <T>(work: () => Promise<T>) => Promise<T>;
}

/** The keys ssh would offer, in its order, each loaded only when its turn comes. */
export async function publicKeyMethods(
  host: HostConfig,
  report: AuthReport,
  c: KeyContext,
): Promise<KeyTurn[]> {
  const agentPath = agentPathFor(host, c.env, c.platform);
  let agent: BaseAgent | undefined;
  let agentKeys: ParsedKey[] = [];
  if (agentPath) {
    try {
      agent = c.openAgent(agentPath);
      agentKeys = await agentIdentities(agent);
    } catch (err) {
      agent = undefined;
      report.notes.push(`agent ${agentPath} unavailable: ${(err as Error).message}`);
      c.log.debug({ err, agent: agentPath }, 'agent unavailable');
    }
  } else if (host.identityAgent === 'none') {
    report.notes.push('agent disabled (IdentityAgent none)');
  }

  const files: FileIdentity[] = [];
  for (const file of new Set(host.identityFiles)) {
    if (!(await identityExists(file))) continue;
    files.push({ file, blob: await readIdentityPublicBlob(file) });
  }

  const viaAgent =
    (key: ParsedKey, label: string): KeyTurn =>
    async () => {
      report.started = true;
      report.tried.push(`agent key ${describeKey(key)}${label ? ` (${label})` : ''}`);
      return {
        type: 'agent',
        username: host.user,
        agent: new OfferedIdentity(
          async () => key,
          (k, data, opts, cb) => {
            // The server accepted this key (PK_OK) and asked for a signature: if it still
            // answers failure, that is partial success, which ssh2 does not report for agents.
            report.agentSigned = true;
            agent?.sign(k, data, opts, cb);
          },
        ),
      };
    };
  const preferred: KeyTurn[] = [];
  const agentOnly: KeyTurn[] = [];
  const requiredRsa = host.requiredRsaSize ?? 1024;
  for (const key of agentKeys) {
    if (!rsaLengthAllowed(key.getPublicSSH(), requiredRsa)) {
      // RequiredRSASize: ssh ignores such an agent key (and its file, if named) altogether.
      report.notes.push(`ignoring ${describeKey(key)} agent key: shorter than RequiredRSASize`);
      continue;
    }
    const blob = key.getPublicSSH();
    const i = files.findIndex((f) => f.blob?.equals(blob));
    const matched = i >= 0 ? files.splice(i, 1)[0] : undefined;
    if (matched) preferred.push(viaAgent(key, matched.file));
    else if (!host.identitiesOnly) agentOnly.push(viaAgent(key, key.comment));
  }
  const fromFile =
    (file: string): KeyTurn =>
    async () => {
      report.started = true;
      const skip = (why: string): undefined => {
        report.notes.push(why);
        c.log.warn({ file }, why);
        return undefined;
      };
      try {
        const warning = await unprotectedKeyWarning(file, c.platform);
        if (warning) return skip(warning);
        const source = c.passphrase;
        const loaded = await c.withoutDeadline(() =>
          loadPrivateKey(
            file,
            source ? (f) => source(f, host) : undefined,
            (host.authentication ?? DEFAULT_AUTH_SETTINGS).numberOfPasswordPrompts,
          ),
        );
        if ('error' in loaded) return skip(`${file}: ${loaded.error}`);
        if (!rsaLengthAllowed(loaded.key.getPublicSSH(), host.requiredRsaSize ?? 1024)) {
          return skip(`Skipping key ${file}: Invalid key length (RequiredRSASize)`);
        }
        report.tried.push(`${file} ${describeKey(loaded.key)}`);
        // A key signed here (not through an agent) keeps ssh2's failure bookkeeping, partial success included.
        return { type: 'publickey', username: host.user, key: loaded.key };
      } catch (err) {
        // An interrupted prompt (or one that cannot happen here) stops the connect; an unreadable file is only skipped.
        if (err instanceof SshmuxError && (err.kind === 'aborted' || err.code === PROMPT_CODE)) throw err;
        return skip(`${file}: ${(err as Error).message}`);
      }
    };
  return [...preferred, ...agentOnly, ...files.map(({ file }) => fromFile(file))];
}
