import ssh2, {
  type AnyAuthMethod,
  type BaseAgent,
  type KeyboardInteractiveCallback,
  type Prompt,
} from 'ssh2';
import { type AuthSettings, DEFAULT_AUTH_SETTINGS } from '../config/auth-options.js';
import type { HostConfig } from '../config/host-config.js';
import type { AuthHooks, AuthProvider } from '../connection/connection.js';
import { AuthError, ConfigError, SshmuxError, translateError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { AuthReport } from './auth-report.js';
import { AuthSequence, type MethodRunner } from './auth-sequence.js';
import { kerberosCredentialsPresent } from './kerberos.js';
import type { PassphraseSource } from './passphrase.js';
import { PROMPT_CODE, publicKeyMethods } from './public-key-turns.js';

// ssh2 is CommonJS; Node's ESM loader does not expose `createAgent` by name.
const { createAgent } = ssh2;

/** Asks a person for passwords and keyboard-interactive answers (the CLI: terminal or SSH_ASKPASS). */
export interface AuthPrompter {
  /** One question; `echo` as the server asked. Resolves with the answer ('' when nobody answered). */
  ask(prompt: string, echo: boolean): Promise<string>;
  /** Text ssh logs at its INFO level: keyboard-interactive names and instructions, retry notices. */
  notice(text: string): void;
}

/** Options of `createAuthProvider`. */
export interface AuthProviderOptions {
  /** Passphrases for encrypted identity files; without it they are skipped. @default undefined */
  passphrase?: PassphraseSource;
  /**
   * Password and keyboard-interactive prompts. Without it those methods are not tried and a
   * failure that needed them has code `SSHMUX_ERR_AUTH_PROMPT` (the daemon never prompts).
   * @default undefined
   */
  prompter?: AuthPrompter;
  /**
   * When a turn needs a person (an encrypted key without `passphrase`, a password or
   * keyboard-interactive without `prompter`), end the connect at once with code
   * `SSHMUX_ERR_AUTH_PROMPT` instead of moving on: the daemon's mode, so that its client
   * connects itself and asks exactly where ssh would. Not under BatchMode. @default false
   */
  stopForPrompts?: boolean;
  /** @default silent */
  logger?: Logger;
  /** Environment for SSH_AUTH_SOCK and `IdentityAgent $VAR`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Decides the Windows agent pipe and the permission check. @default process.platform */
  platform?: NodeJS.Platform;
  /** Opens an agent by socket path or pipe. @default ssh2's createAgent */
  createAgent?: (path: string) => BaseAgent;
}

/** ssh2's function form of `authHandler`: the server's remaining methods, its partial flag, and `next`. */
export type AuthHandler = (
  methodsLeft: string[] | null,
  partialSuccess: boolean | null,
  next: (method: AnyAuthMethod | false) => void,
) => void;

const reports = new WeakMap<object, AuthReport>();

/** A HostConfig built by hand (plain JavaScript, an older caller) may lack the field: ssh's defaults. */
export function authenticationOf(host: HostConfig): AuthSettings {
  return host.authentication ?? DEFAULT_AUTH_SETTINGS;
}

/** Options sshmux cannot honour stop the connect, naming the keyword, before anything is offered. */
function refuseUnsupported(host: HostConfig): void {
  const a = authenticationOf(host);
  const refuse = (what: string, fix: string): never => {
    throw new ConfigError(`${what} is not supported by sshmux; ${fix}`);
  };
  if (a.pubkeyMode === 'host-bound') {
    refuse('PubkeyAuthentication host-bound', 'ssh2 signs plain publickey requests: use yes or unbound');
  }
  if (a.kbdInteractiveDevices !== undefined && a.kbdInteractiveDevices !== '') {
    refuse('KbdInteractiveDevices', "ssh2 always asks for the server's default devices: remove it");
  }
}

/**
 * Authentication as OpenSSH 9.2's client runs it (see AuthSequence): a `none` request first,
 * then PreferredAuthentications among the methods the server lists. Public keys go in
 * OpenSSH's order — identity files whose key is in the agent (signed by the agent), then the
 * agent's other keys (not with IdentitiesOnly), then the remaining identity files, loaded
 * lazily: a passphrase is asked only when a key's turn comes. Passwords and
 * keyboard-interactive answers come from `prompter`, NumberOfPasswordPrompts times at most.
 */
export function createAuthProvider(options: AuthProviderOptions = {}): AuthProvider {
  const log = options.logger ?? silentLogger();
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const openAgent = options.createAgent ?? createAgent;
  return async (host: HostConfig, hooks?: AuthHooks) => {
    refuseUnsupported(host);
    const settings = authenticationOf(host);
    // ssh lowercases HostKeyAlias before anything uses it (ssh.c), the prompts included.
    const shownHost = host.hostKeyAlias?.toLowerCase() ?? host.hostname;
    const report: AuthReport = { tried: [], notes: [], started: false, user: host.user, host: host.hostname };
    const withoutDeadline = async <T>(work: () => Promise<T>): Promise<T> => {
      hooks?.pause();
      try {
        return await work();
      } finally {
        hooks?.resume();
      }
    };
    const stop = options.stopForPrompts === true && !host.batchMode;
    const promptNeeded = (): undefined => {
      report.promptNeeded = true;
      if (stop) throw promptError(host);
      return undefined;
    };
    const passphrase: PassphraseSource | undefined =
      options.passphrase ?? (stop ? async () => promptNeeded() : undefined);
    const keys = settings.pubkey
      ? await publicKeyMethods(host, report, { log, env, platform, openAgent, passphrase, withoutDeadline })
      : [];
    const runners = new Map<string, MethodRunner<AnyAuthMethod>>();
    let keyTurn = 0;
    runners.set('publickey', {
      attempt: async () => {
        while (keyTurn < keys.length) {
          const method = await keys[keyTurn++]!();
          if (method) return method;
        }
        return undefined;
      },
      reset: () => {
        keyTurn = 0;
      },
    });
    const prompter = options.prompter;
    let passwordTurns = 0;
    runners.set('password', {
      attempt: async () => {
        if (passwordTurns++ >= settings.numberOfPasswordPrompts) return undefined;
        if (!prompter) return promptNeeded();
        if (passwordTurns > 1) prompter.notice('Permission denied, please try again.');
        const prompt = `${host.user}@${shownHost}'s password: `;
        const password = await withoutDeadline(() => prompter.ask(prompt, false));
        report.started = true;
        return { type: 'password', username: host.user, password };
      },
    });
    let kbdTurns = 0;
    let infoRequestSeen = false;
    runners.set('keyboard-interactive', {
      attempt: async () => {
        if (kbdTurns++ >= settings.numberOfPasswordPrompts) return undefined;
        // A server that never sent a question will not send one on a second try either.
        if (kbdTurns > 1 && !infoRequestSeen) return undefined;
        if (!prompter) return promptNeeded();
        report.started = true;
        const answer = (
          name: string,
          instructions: string,
          _lang: string,
          prompts: Prompt[],
          finish: KeyboardInteractiveCallback,
        ): void => {
          infoRequestSeen = true;
          if (name !== '') prompter.notice(name);
          if (instructions !== '') prompter.notice(instructions);
          withoutDeadline(async () => {
            const answers: string[] = [];
            for (const p of prompts) {
              answers.push(await prompter.ask(`(${host.user}@${shownHost}) ${p.prompt}`, p.echo === true));
            }
            return answers;
          }).then(finish, (err: unknown) => {
            // Ctrl-C at a prompt: answer nothing useful and stop the connect with the abort.
            report.error = err;
            finish(prompts.map(() => ''));
          });
        };
        return { type: 'keyboard-interactive', username: host.user, prompt: answer };
      },
    });
    // Methods sshmux lacks. ssh sends no gssapi-with-mic request without Kerberos credentials
    // (it moves on silently); with credentials, or for hostbased, it would authenticate in a
    // way sshmux cannot, so that turn stops the connect with the keyword named.
    runners.set('gssapi-with-mic', {
      attempt: async () => {
        if (!kerberosCredentialsPresent(env)) return undefined;
        throw new ConfigError(
          'GSSAPIAuthentication yes is not supported by sshmux: the server offers gssapi-with-mic and a ' +
            'Kerberos credential cache exists; set GSSAPIAuthentication no (or log in with a key or password)',
        );
      },
    });
    runners.set('hostbased', {
      attempt: async () => {
        throw new ConfigError(
          'HostbasedAuthentication yes is not supported by sshmux (no ssh-keysign) and the server offers ' +
            'hostbased; set HostbasedAuthentication no',
        );
      },
    });
    const sequence = new AuthSequence(settings, host.batchMode, runners);
    let sentNone = false;
    let agentPartial = false;
    let lastList = '';
    const handler: AuthHandler = (methodsLeft, partialSuccess, next) => {
      if (report.error !== undefined) return next(false);
      if (!sentNone) {
        // Like ssh: ask with `none` first, which tells us the methods the server accepts.
        sentNone = true;
        return next({ type: 'none', username: host.user });
      }
      const staleList = lastList;
      lastList = (methodsLeft ?? []).join(',');
      if (report.agentSigned) {
        // After an agent key ssh2 passes on neither the server's new list nor its partial
        // flag. A signed key that did not log us in succeeded partially: ask `none` once to
        // learn what the server still wants (one request more than ssh sends, only here).
        report.agentSigned = false;
        agentPartial = true;
        return next({ type: 'none', username: host.user });
      }
      if (agentPartial) {
        agentPartial = false;
        // Only a list that changed shows progress; the same list means the key simply failed.
        partialSuccess = lastList !== staleList;
      }
      if (partialSuccess) log.info({ method: sequence.active }, 'authenticated with partial success');
      sequence.next(methodsLeft ?? [], partialSuccess === true).then(
        (step) => {
          if ('denied' in step) {
            report.denied = step.denied;
            next(false);
          } else {
            log.debug({ method: sequence.active }, 'next authentication method');
            next(step.send);
          }
        },
        (err: unknown) => {
          report.error = err;
          next(false);
        },
      );
    };
    reports.set(handler, report);
    log.debug(
      { host: host.hostname, keys: keys.length, preferred: settings.preferred.join(',') },
      'authentication plan',
    );
    return handler;
  };
}

function promptError(host: HostConfig): AuthError {
  return new AuthError(
    `${host.user}@${host.hostname}: authentication needs a passphrase, password or answer that cannot be asked here`,
    { code: PROMPT_CODE },
  );
}

/**
 * Turn a failed connect into an `AuthError` that lists what was offered (fingerprints, never
 * key material) and what was skipped. A server that hangs up mid-authentication (MaxAuthTries)
 * is an auth failure too. Methods not made by `createAuthProvider` leave `err` unchanged.
 */
export function explainAuthFailure(
  err: SshmuxError,
  methods: readonly AnyAuthMethod[] | AuthHandler | undefined,
): SshmuxError {
  const report = methods ? reports.get(methods) : undefined;
  if (!report) return err;
  if (report.error !== undefined) {
    return report.error instanceof SshmuxError ? report.error : translateError(report.error, err.destination);
  }
  const cause = err.cause as { code?: unknown } | undefined;
  const hungUp = err.kind === 'network' && report.started && typeof cause?.code === 'number';
  if (err.kind !== 'auth' && !hungUp) return err;
  // ssh's own sentence first (sshconnect2.c), then what sshmux can add about the keys.
  const what = hungUp
    ? `the server closed the connection during authentication (too many authentication failures? see its MaxAuthTries): ${err.message}.`
    : report.denied !== undefined
      ? `${report.user}@${report.host}: Permission denied (${report.denied}).`
      : `${err.message}.`;
  const tried = report.tried.length > 0 ? report.tried.join('; ') : 'no keys';
  const skipped = report.notes.length > 0 ? `. Skipped: ${report.notes.join('; ')}` : '';
  const unasked = report.promptNeeded ? '. A password or keyboard-interactive prompt was needed' : '';
  return new AuthError(`${what} Tried: ${tried}${skipped}${unasked}`, {
    destination: err.destination,
    cause: err.cause ?? err,
    tried: [...report.tried],
    ...(report.promptNeeded && { code: PROMPT_CODE }),
  });
}
