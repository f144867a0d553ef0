import type { HostConfig } from '../config/host-config.js';
import { resolveHostConfig } from '../config/resolve.js';
import type { ResolveOptions } from '../config/resolve-options.js';
import { ConfigError, isSshmuxError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { currentEnvironment, type MuxEndpoint, selectEndpoint } from '../mux/endpoint.js';
import { agentCheck } from './agent-check.js';
import { configChecks } from './config-checks.js';
import { connectCheck } from './connect-check.js';
import { daemonCheck } from './daemon-check.js';
import { keyChecks } from './key-checks.js';
import { knownHostsCheck } from './known-hosts-check.js';
import { currentSystemFacts, type SystemFacts, systemChecks } from './system-checks.js';
import { check, type DoctorCheck, type DoctorReport, type DoctorSection } from './types.js';

/** Options of `runDoctor`. */
export interface DoctorOptions {
  /** This client's sshmux version: a daemon of another version is reported as a failure. */
  version: string;
  /** How the destination is resolved (`configFile`, `commandLine`, `port`, `user`, `identityFiles`…). @default {} */
  resolve?: Omit<ResolveOptions, 'onWarning'>;
  /** SSH_AUTH_SOCK, SSHMUX_NO_DAEMON, HOME… @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The daemon's endpoint. @default selectEndpoint() for `env` */
  endpoint?: MuxEndpoint;
  /** Run on the host to prove an exec works. @default ['true'] */
  command?: readonly string[];
  /** Connect deadline when the configuration sets no ConnectTimeout. @default 10000 */
  timeoutMs?: number;
  /** Whether to connect at all (false: configuration, keys and known_hosts only). @default true */
  connect?: boolean;
  /** @default silent */
  logger?: Logger;
  /** The machine's facts; injected by tests. @default the running process's */
  system?: SystemFacts;
}

interface NormalizedDoctorOptions {
  readonly version: string;
  readonly resolve: Omit<ResolveOptions, 'onWarning'>;
  readonly env: NodeJS.ProcessEnv;
  readonly endpoint: MuxEndpoint | undefined;
  readonly command: readonly string[];
  readonly timeoutMs: number;
  readonly connect: boolean;
  readonly logger: Logger;
  readonly system: SystemFacts | undefined;
}

function normalize(o: DoctorOptions): NormalizedDoctorOptions {
  if (typeof o?.version !== 'string' || o.version === '')
    throw new ConfigError(`Expected \`version\` to be a non-empty string, got \`${String(o?.version)}\``);
  const timeoutMs = o.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new ConfigError(`Expected \`timeoutMs\` to be a positive integer, got \`${String(timeoutMs)}\``);
  const command = o.command ?? ['true'];
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string'))
    throw new ConfigError('Expected `command` to be a non-empty array of strings');
  return Object.freeze({
    version: o.version,
    resolve: o.resolve ?? {},
    env: o.env ?? process.env,
    endpoint: o.endpoint,
    command: Object.freeze([...command]),
    timeoutMs,
    connect: o.connect ?? true,
    logger: o.logger ?? silentLogger(),
    system: o.system,
  });
}

const ORDER: readonly DoctorSection[] = [
  'system',
  'daemon',
  'agent',
  'config',
  'keys',
  'known-hosts',
  'connection',
];

function endpointOf(o: NormalizedDoctorOptions): MuxEndpoint | DoctorCheck {
  if (o.endpoint) return o.endpoint;
  try {
    return selectEndpoint({ ...currentEnvironment(), env: o.env });
  } catch (err) {
    return check({
      section: 'daemon',
      id: 'daemon',
      status: 'fail',
      summary: `no endpoint for the daemon: ${(err as Error).message}`,
      advice: 'set SSHMUX_RUNTIME_DIR to a short directory of yours',
    });
  }
}

/**
 * `sshmux doctor [dest]`: each part of the set-up checked and reported as ok, warn or fail with
 * what to do. Without a destination only the machine (Node, ssh2's binding, home, daemon, agent).
 */
export async function runDoctor(
  destination: string | undefined,
  options: DoctorOptions,
): Promise<DoctorReport> {
  const o = normalize(options);
  const facts = o.system ?? currentSystemFacts(o.env);
  const checks: DoctorCheck[] = [...systemChecks(facts)];
  const endpoint = endpointOf(o);

  let host: HostConfig | undefined;
  const warnings: string[] = [];
  if (destination !== undefined) {
    try {
      host = await resolveHostConfig(destination, {
        ...o.resolve,
        env: o.resolve.env ?? o.env,
        onWarning: (m) => warnings.push(m),
      });
    } catch (err) {
      checks.push(
        check({
          section: 'config',
          id: 'config',
          status: 'fail',
          summary: `the configuration for ${destination} does not resolve: ${(err as Error).message}`,
          advice: 'fix the file or line the message names; then `sshmux config DEST` prints what resolves',
          data: {
            error: { code: isSshmuxError(err) ? err.code : undefined, message: (err as Error).message },
          },
        }),
      );
    }
  }
  const hostDestination = host && `${host.user}@${host.hostname}:${host.port}`;
  checks.push(
    'socketPath' in endpoint
      ? await daemonCheck({ endpoint, version: o.version, env: o.env, destination: hostDestination })
      : endpoint,
  );
  const agent = await agentCheck(host ?? { identityAgent: undefined }, o.env, facts.platform);
  checks.push(agent);
  if (host !== undefined) {
    checks.push(...configChecks(host, warnings));
    const agentKeys = Array.isArray(agent.data?.keys) ? agent.data.keys.length : 0;
    checks.push(...(await keyChecks(host, agentKeys, facts.platform)));
    const outcome = o.connect
      ? await connectCheck(host, { command: o.command, timeoutMs: o.timeoutMs, logger: o.logger })
      : undefined;
    checks.push(await knownHostsCheck(host, outcome?.hostKey));
    if (outcome) checks.push(...outcome.checks);
  }
  checks.sort((a, b) => ORDER.indexOf(a.section) - ORDER.indexOf(b.section));
  return Object.freeze({
    destination,
    checks: Object.freeze(checks),
    ok: checks.every((c) => c.status !== 'fail'),
  });
}
