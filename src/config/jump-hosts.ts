import { ConfigError } from '../errors.js';
import type { HostConfig } from './host-config.js';
import { poolKeyOf } from './plain.js';
import { formatHop, type JumpHop, parseProxyJump } from './proxy-jump.js';
import type { NormalizedResolveOptions } from './resolve-options.js';

/** Resolves one destination through ssh_config (resolve.ts), without resolving its hops. */
export type ResolveOne = (destination: string, options: NormalizedResolveOptions) => Promise<HostConfig>;

/** Whether connecting to `host` starts a ProxyCommand: its own, or its first hop's (recursively). */
export function runsProxyCommand(host: HostConfig): boolean {
  if (host.proxyCommand !== undefined) return true;
  const first = host.jumpHosts?.[0];
  return first !== undefined && runsProxyCommand(first);
}

/**
 * Whether connecting to `host` runs a command of the configuration in this process — a
 * ProxyCommand (its own or its first hop's) or a KnownHostsCommand (its own or any hop's) —
 * whose environment, directory and stderr must be the invoking process's.
 */
export function runsLocalCommand(host: HostConfig): boolean {
  if (runsProxyCommand(host)) return true;
  return [host, ...(host.jumpHosts ?? [])].some(
    (h) => h.knownHostsCommand !== undefined || (h !== host && runsLocalCommand(h)),
  );
}

function describeNode(h: HostConfig): string {
  return `${h.user}@${h.originalHost}:${h.port}`;
}

/**
 * Resolve every ProxyJump hop of `target` as ssh 9.2 does. ssh.c turns `ProxyJump h1,…,hN` into
 * the ProxyCommand `ssh [-l user] [-p port] [-J h1,…,hN-1] [-F file] -W [%h]:%p hN`: so a hop is
 * resolved through the same `-F` file (or the default files) with only its own `user@`/`:port`
 * from the spec — none of our `-o`, `-i`, `-4/-6`, `-l`, `-p` — and every hop but the first is
 * resolved with `-J` (the hops before it) on its command line, which overrides whatever
 * ProxyJump or ProxyCommand its configuration names. Only the first hop keeps its own route.
 * A chain of first hops that comes back to a hop already on it is refused (ssh would recurse).
 */
export async function resolveJumpHosts(
  target: HostConfig,
  options: NormalizedResolveOptions,
  resolveOne: ResolveOne,
  /** The first hops already on the route (the recursion), outermost first. */
  chain: readonly HostConfig[] = [],
): Promise<HostConfig> {
  if (target.proxyJump.length === 0) return target;
  const hops = parseProxyJump(target.proxyJump.join(','), 'ProxyJump');
  const last = hops[hops.length - 1]!;
  // ssh.c's own check, with its message: the last hop is the target itself.
  if (
    last.host === target.hostname &&
    (last.port ?? 22) === target.port &&
    (last.user ?? target.user) === target.user
  ) {
    throw new ConfigError(`jumphost loop via ${last.host}`);
  }
  const hopOptions = (hop: JumpHop, before: readonly JumpHop[]): NormalizedResolveOptions =>
    Object.freeze({
      ...options,
      commandLine: [],
      overrides: before.length === 0 ? [] : [['ProxyJump', before.map(formatHop).join(',')] as const],
      port: hop.port,
      user: hop.user,
      identityFiles: [],
      addressFamily: undefined,
    });
  const resolved: HostConfig[] = [];
  for (const [i, hop] of hops.entries()) {
    let config = await resolveOne(hop.host, hopOptions(hop, hops.slice(0, i)));
    if (i === 0) {
      if (chain.some((h) => describeNode(h) === describeNode(config))) {
        const names = [...chain, config].map((h) => h.originalHost).join(' -> ');
        throw new ConfigError(
          `ProxyJump loop: ${names} (each first hop's own ProxyJump leads back); break the cycle with ProxyJump none on one of them`,
        );
      }
      config = await resolveJumpHosts(config, options, resolveOne, [...chain, config]);
    } else {
      // Reached over the previous hop: its own route is the chain itself.
      const copy: HostConfig = { ...config, jumpHosts: [] };
      config = Object.freeze({ ...copy, poolKey: poolKeyOf(copy) });
    }
    resolved.push(config);
  }
  const withHops: HostConfig = { ...target, jumpHosts: Object.freeze(resolved) };
  return Object.freeze({ ...withHops, poolKey: poolKeyOf(withHops) });
}
