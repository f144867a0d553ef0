import type { HostConfig } from '../config/host-config.js';
import { poolKeyOf } from '../config/plain.js';
import { CONNECT_FAILED } from '../connection/tcp-socket.js';
import { HostKeyError, isSshmuxError, type SshmuxError, translateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { SshPool } from '../pool/ssh-pool.js';
import { createAuthProvider } from '../security/auth.js';
import { PROMPT_CODE } from '../security/public-key-turns.js';
import { createHostKeyVerifier } from '../security/verify-host-key.js';
import { knownHostsFileStatus, type SeenHostKey } from './known-hosts-check.js';
import { check, type DoctorCheck } from './types.js';

/** What the connection attempt found: its lines, and the target's host key when it got that far. */
export interface ConnectOutcome {
  readonly checks: readonly DoctorCheck[];
  readonly hostKey: SeenHostKey | undefined;
}

/** What to do about a failed connect, by the error's kind and code (never its text). */
function adviceFor(err: SshmuxError, host: HostConfig): string {
  const dest = `${host.hostname} port ${host.port}`;
  if (err.code === 'SSHMUX_ERR_RESOLVE')
    return `the name ${host.hostname} does not resolve: check HostName (sshmux config ${host.originalHost}) and DNS`;
  if (err.code === CONNECT_FAILED)
    return `nothing accepts connections at ${dest}: check HostName and Port, that sshd runs there, and firewalls`;
  if (err.code === PROMPT_CODE)
    return 'the server wants a password or a key passphrase, which doctor does not ask: `sshmux ssh` asks on the terminal; for scripts, authorize a key and `ssh-add` it';
  switch (err.kind) {
    case 'timeout':
      return `no answer from ${dest} in time: a firewall dropping packets, a wrong Port, or a slow ProxyJump/ProxyCommand (ConnectTimeout raises the limit)`;
    case 'auth':
      return `the server refused every key offered: authorize one (\`ssh-copy-id -i KEY.pub ${host.user}@${host.hostname}\`), check User (${host.user}), or \`ssh-add\` the right key`;
    case 'host-key':
      return 'see the known-hosts line above';
    case 'config':
      return 'fix the configuration line named in the message';
    case 'network':
      return `the connection to ${dest} broke during the handshake: is it an SSH server, and does it accept our algorithms? (\`sshmux -vv ssh\` logs the exchange)`;
    default:
      return 'run `sshmux -vv ssh DEST true` to see the exchange';
  }
}

/**
 * Connect (host key, authentication) and run `command` there, never writing known_hosts and
 * never prompting: an unknown key under accept-new/no is accepted for this attempt only.
 */
export async function connectCheck(
  host: HostConfig,
  o: { readonly command: readonly string[]; readonly timeoutMs: number; readonly logger: Logger },
): Promise<ConnectOutcome> {
  const target = Object.freeze({
    ...host,
    // Doctor only looks: UpdateHostKeys and CheckHostIP would write known_hosts.
    updateHostKeys: false,
    connectTimeoutMs: host.connectTimeoutMs ?? o.timeoutMs,
  });
  const doctorHost: HostConfig = Object.freeze({ ...target, poolKey: poolKeyOf(target) });
  const strict = createHostKeyVerifier({ logger: o.logger });
  let hostKey: SeenHostKey | undefined;
  const pool = new SshPool({
    logger: o.logger,
    maxConnectionsPerHost: 1,
    persist: 0,
    authProvider: createAuthProvider({ logger: o.logger }),
    hostKeyVerifier: async (key, h, peer) => {
      const isTarget = h.hostname === host.hostname && h.port === host.port && h.user === host.user;
      try {
        await strict(key, { ...h, strictHostKeyChecking: 'yes', checkHostIp: false }, peer);
        if (isTarget) hostKey = { key, acceptedUnknown: false };
      } catch (err) {
        // Unknown (not changed/revoked) under accept-new or no: what ssh would accept, minus the write.
        const lenient = h.strictHostKeyChecking === 'accept-new' || h.strictHostKeyChecking === 'no';
        const unknown =
          err instanceof HostKeyError && lenient && (await knownHostsFileStatus(h, key)) === 'new';
        if (isTarget) hostKey = { key, acceptedUnknown: lenient && unknown };
        if (!(lenient && unknown)) throw err;
      }
    },
  });
  const destination = `${host.user}@${host.hostname}:${host.port}`;
  const via =
    host.proxyJump.length > 0
      ? ` via ProxyJump ${host.proxyJump.join(',')}`
      : host.proxyCommand !== undefined
        ? ` via ProxyCommand ${host.proxyCommand}`
        : '';
  const checks: DoctorCheck[] = [];
  try {
    const started = Date.now();
    try {
      await pool.check(doctorHost);
    } catch (e) {
      const err = translateError(e, destination);
      checks.push(
        check({
          section: 'connection',
          id: 'connect',
          status: 'fail',
          summary: `connect to ${destination}${via} failed: ${err.message}`,
          advice: adviceFor(err, host),
          data: { destination, error: { kind: err.kind, code: err.code, message: err.message } },
        }),
      );
      return { checks, hostKey };
    }
    checks.push(
      check({
        section: 'connection',
        id: 'connect',
        status: 'ok',
        summary: `connected and authenticated to ${destination}${via} in ${Date.now() - started} ms`,
        data: { destination, ms: Date.now() - started },
      }),
    );
    const shown = o.command.join(' ');
    try {
      const r = await pool.exec(doctorHost, o.command, { encoding: 'utf8' });
      const ran = r.exitCode === 0;
      const tail = String(r.stderr).trim().split('\n').slice(-3).join(' / ');
      checks.push(
        check({
          section: 'connection',
          id: 'exec',
          status: ran ? 'ok' : 'fail',
          summary: ran
            ? `exec \`${shown}\`: exit 0 in ${r.durationMs} ms`
            : `exec \`${shown}\`: ${r.exitCode === null ? `killed by SIG${r.signal}` : `exit ${r.exitCode}`}${tail ? `: ${tail}` : ''}`,
          ...(!ran && {
            advice:
              "the account may have a restricted shell or a ForceCommand (see the server's sshd_config and ~/.ssh/authorized_keys options)",
          }),
          data: { command: [...o.command], exitCode: r.exitCode, signal: r.signal, ms: r.durationMs },
        }),
      );
    } catch (e) {
      const err = isSshmuxError(e) ? e : translateError(e, destination);
      checks.push(
        check({
          section: 'connection',
          id: 'exec',
          status: 'fail',
          summary: `exec \`${shown}\` failed: ${err.message}`,
          advice:
            'the server refused a session channel: check its MaxSessions, and that the account may run commands (no `restrict`/`no-pty` surprises)',
          data: { command: [...o.command], error: { kind: err.kind, code: err.code, message: err.message } },
        }),
      );
    }
    return { checks, hostKey };
  } finally {
    await pool.close();
  }
}
