import ssh2, { type AnyAuthMethod, type BaseAgent, type ParsedKey } from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import type { AuthProvider } from '../connection/connection.js';
import { AuthError, SshmuxError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { agentPathFor } from './agent-path.js';
import { displayKeyType, fingerprintSha256 } from './fingerprint.js';
import {
  identityExists,
  loadPrivateKey,
  readIdentityPublicBlob,
  unprotectedKeyWarning,
} from './identity-files.js';
import { OfferedIdentity } from './offered-identity.js';
import type { PassphraseSource } from './passphrase.js';

// ssh2 is CommonJS; Node's ESM loader does not expose `utils`/`createAgent` by name.
const { createAgent, utils } = ssh2;

/** The Windows OpenSSH agent's named pipe, used when SSH_AUTH_SOCK is unset on Windows. */

export interface AuthProviderOptions {
  /** Passphrases for encrypted identity files; without it they are skipped. @default undefined */
  passphrase?: PassphraseSource;
  /** @default silent */
  logger?: Logger;
  /** Environment for SSH_AUTH_SOCK and `IdentityAgent $VAR`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Decides the Windows agent pipe and the permission check. @default process.platform */
  platform?: NodeJS.Platform;
  /** Opens an agent by socket path or pipe. @default ssh2's createAgent */
  createAgent?: (path: string) => BaseAgent;
}

/** What one connect attempt offered and skipped, kept for the error when every method fails. */
interface AuthReport {
  readonly tried: string[];
  readonly notes: string[];
  started: boolean;
}

const reports = new WeakMap<readonly AnyAuthMethod[], AuthReport>();

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

/**
 * Public-key authentication in OpenSSH's order: identity files whose key is in the agent
 * (signed by the agent), then the agent's other keys (not with IdentitiesOnly), then the
 * remaining identity files, loaded lazily — a passphrase is asked only when a key's turn comes.
 */
export function createAuthProvider(options: AuthProviderOptions = {}): AuthProvider {
  const log = options.logger ?? silentLogger();
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const openAgent = options.createAgent ?? createAgent;
  return async (host: HostConfig) => {
    const report: AuthReport = { tried: [], notes: [], started: false };
    const agentPath = agentPathFor(host, env, platform);
    let agent: BaseAgent | undefined;
    let agentKeys: ParsedKey[] = [];
    if (agentPath) {
      try {
        agent = openAgent(agentPath);
        agentKeys = await agentIdentities(agent);
      } catch (err) {
        agent = undefined;
        report.notes.push(`agent ${agentPath} unavailable: ${(err as Error).message}`);
        log.debug({ err, agent: agentPath }, 'agent unavailable');
      }
    } else if (host.identityAgent === 'none') {
      report.notes.push('agent disabled (IdentityAgent none)');
    }

    const files: FileIdentity[] = [];
    for (const file of new Set(host.identityFiles)) {
      if (!(await identityExists(file))) continue;
      files.push({ file, blob: await readIdentityPublicBlob(file) });
    }

    const methods: AnyAuthMethod[] = [];
    const viaAgent = (key: ParsedKey, label: string): AnyAuthMethod => ({
      type: 'agent',
      username: host.user,
      agent: new OfferedIdentity(
        async () => {
          report.started = true;
          report.tried.push(`agent key ${describeKey(key)}${label ? ` (${label})` : ''}`);
          return key;
        },
        (k, data, opts, cb) => agent?.sign(k, data, opts, cb),
      ),
    });
    const preferred: AnyAuthMethod[] = [];
    const agentOnly: AnyAuthMethod[] = [];
    for (const key of agentKeys) {
      const blob = key.getPublicSSH();
      const i = files.findIndex((f) => f.blob?.equals(blob));
      const matched = i >= 0 ? files.splice(i, 1)[0] : undefined;
      if (matched) preferred.push(viaAgent(key, matched.file));
      else if (!host.identitiesOnly) agentOnly.push(viaAgent(key, key.comment));
    }
    methods.push(...preferred, ...agentOnly);
    for (const { file } of files) {
      methods.push({
        type: 'agent',
        username: host.user,
        agent: new OfferedIdentity(
          async () => {
            report.started = true;
            const skip = (why: string): undefined => {
              report.notes.push(why);
              log.warn({ file }, why);
              return undefined;
            };
            try {
              const warning = await unprotectedKeyWarning(file, platform);
              if (warning) return skip(warning);
              const source = options.passphrase;
              const loaded = await loadPrivateKey(file, source ? (f) => source(f, host) : undefined);
              if ('error' in loaded) return skip(`${file}: ${loaded.error}`);
              report.tried.push(`${file} ${describeKey(loaded.key)}`);
              return loaded.key;
            } catch (err) {
              // An interrupted prompt stops the connect; an unreadable file is only skipped.
              if (err instanceof SshmuxError && err.kind === 'aborted') throw err;
              return skip(`${file}: ${(err as Error).message}`);
            }
          },
          (key, data, opts, cb) => {
            const sig = key.sign(data, opts.hash);
            if (sig instanceof Error) cb(sig);
            else cb(undefined, sig);
          },
        ),
      });
    }
    reports.set(methods, report);
    log.debug({ host: host.hostname, methods: methods.length, agent: agentPath }, 'authentication plan');
    return methods;
  };
}

/**
 * Turn a failed connect into an `AuthError` that lists what was offered (fingerprints, never
 * key material) and what was skipped. A server that hangs up mid-authentication (MaxAuthTries)
 * is an auth failure too. Methods not made by `createAuthProvider` leave `err` unchanged.
 */
export function explainAuthFailure(
  err: SshmuxError,
  methods: readonly AnyAuthMethod[] | undefined,
): SshmuxError {
  const report = methods ? reports.get(methods) : undefined;
  if (!report) return err;
  const cause = err.cause as { code?: unknown } | undefined;
  const hungUp = err.kind === 'network' && report.started && typeof cause?.code === 'number';
  if (err.kind !== 'auth' && !hungUp) return err;
  const what = hungUp
    ? `the server closed the connection during authentication (too many authentication failures? see its MaxAuthTries): ${err.message}`
    : err.message;
  const tried = report.tried.length > 0 ? report.tried.join('; ') : 'no keys';
  const skipped = report.notes.length > 0 ? `. Skipped: ${report.notes.join('; ')}` : '';
  return new AuthError(`${what}. Tried: ${tried}${skipped}`, {
    destination: err.destination,
    cause: err.cause ?? err,
    tried: [...report.tried],
  });
}
