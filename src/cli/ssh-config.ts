import type { HostConfig } from '../config/host-config.js';
import { matchPattern } from '../config/pattern.js';
import { poolKeyOf } from '../config/plain.js';
import { resolveHostConfig } from '../config/resolve.js';
import { agentPathFor } from '../security/agent-path.js';
import { fullPath, withClientPaths } from './client-paths.js';
import type { SshArgs } from './ssh-args.js';

/** The longest time a Node timer can wait (2^31-1 ms), in seconds: "persist forever". */
export const MAX_PERSIST_SECONDS = 2_147_483;

function absolute(file: string, cwd: string): string {
  return fullPath(file, cwd);
}

/** log.c's level names as ssh -G prints them (Debian: QUIET is `SILENT`, DEBUG1 `DEBUG`). */
function printedLevel(level: string): string {
  return level === 'QUIET' ? 'SILENT' : level === 'DEBUG1' ? 'DEBUG' : level;
}

/**
 * Resolve the HostConfig for `sshmux ssh` through ssh_config, as `ssh -G` would. File paths
 * are made absolute against our working directory, so the daemon (whose directory is its
 * runtime dir) reads the same identity and known_hosts files.
 */
export async function resolveSshHost(
  args: SshArgs,
  cwd = process.cwd(),
  onWarning?: (message: string) => void,
): Promise<HostConfig> {
  const resolved = await resolveHostConfig(args.destination, {
    ...(onWarning !== undefined && { onWarning }),
    // ssh runs Match exec commands; the library keeps them off unless asked.
    allowMatchExec: true,
    ...(args.configFile !== undefined && {
      configFile: args.configFile === 'none' ? 'none' : absolute(args.configFile, cwd),
    }),
    commandLine: [
      ...(args.logLevel === undefined
        ? []
        : [{ kind: 'force' as const, key: 'loglevel', value: printedLevel(args.logLevel) }]),
      ...args.items.map((i) => (i.kind === 'identity' ? { ...i, file: absolute(i.file, cwd) } : i)),
    ],
    // `ssh -G` never resolves the hops: a hop's own configuration cannot fail it.
    resolveJumpHosts: !args.printConfig,
  });
  return withClientPaths(resolved, cwd);
}

/**
 * The environment ssh would send: variables named by SendEnv patterns (a `-pattern` removes),
 * then SetEnv, plus GIT_PROTOCOL when set, so git's protocol v2 works even without
 * `-o SendEnv=GIT_PROTOCOL` (git passes it only when it detected an OpenSSH-like client).
 */
export function environmentToSend(
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  const patterns = host.sendEnv.filter((p) => !p.startsWith('-'));
  const removed = host.sendEnv.filter((p) => p.startsWith('-')).map((p) => p.slice(1));
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const wanted = name === 'GIT_PROTOCOL' || patterns.some((p) => matchPattern(name, p));
    if (wanted && !removed.some((p) => matchPattern(name, p))) out[name] = value;
  }
  return { ...out, ...host.setEnv };
}

/**
 * The HostConfig as the daemon must see it: the agent socket resolved with *this* process's
 * environment (the daemon's SSH_AUTH_SOCK is whatever its first client had), so a new login
 * session's agent is used and different agents never share a pooled connection.
 */
export function hostForDaemon(
  host: HostConfig,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): HostConfig {
  const agent = agentPathFor(host, env, platform) ?? 'none';
  // `ControlPersist yes` is Infinity, which JSON would turn into null: send the longest timer.
  const persist = host.controlPersistSeconds;
  const persistForWire = persist === undefined || Number.isFinite(persist) ? persist : MAX_PERSIST_SECONDS;
  // Each ProxyJump hop authenticates in the daemon too: its agent is resolved here as well.
  const hops = host.jumpHosts?.map((h) => hostForDaemon(h, env, platform));
  const hopsChanged = hops?.some((h, i) => h !== host.jumpHosts?.[i]) ?? false;
  if (agent === host.identityAgent && persistForWire === persist && !hopsChanged) return host;
  const copy: HostConfig = {
    ...host,
    identityAgent: agent,
    controlPersistSeconds: persistForWire,
    ...(hops && { jumpHosts: hops }),
  };
  return Object.freeze({ ...copy, poolKey: poolKeyOf(copy) });
}
