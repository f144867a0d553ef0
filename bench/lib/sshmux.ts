import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostConfig, PlainHostOptions } from '../../src/config/host-config.js';
import type { Destination, PoolStats, RemoteRunner } from '../../src/pool/types.js';
import type { Endpoint } from './endpoint.js';
import { USER } from './openssh.js';
import { run } from './proc.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST_INDEX = path.join(ROOT, 'dist/index.js');
export const CLI = path.join(ROOT, 'dist/cli/sshmux.cjs');

/** What the bench uses of the pool: the features' runner surface plus lifecycle. */
export interface PoolLike extends RemoteRunner {
  close(): Promise<void>;
  destroy?(err?: Error): void;
  stats?(): PoolStats;
}

export interface PoolOptionsLike {
  concurrency?: number;
  maxConnectionsPerHost?: number;
  channelsPerConnection?: number;
  persist?: number;
  /** Destination string → HostConfig (how `dest:PATH` strings reach a chosen HostConfig). */
  resolve?: (dest: string) => HostConfig;
}

/** The parts of dist/index.js the bench measures; each may be missing until its feature lands. */
export interface SshmuxModule {
  SshPool?: new (options?: PoolOptionsLike) => PoolLike;
  plainHostConfig?: (options: PlainHostOptions) => HostConfig;
  poolKeyOf?: (host: HostConfig) => string;
  localManifest?: (dir: string, options?: { concurrency?: number }) => Promise<Map<string, unknown>>;
  remoteManifest?: (
    runner: RemoteRunner,
    tree: string | { dest: Destination; path: string },
  ) => Promise<Map<string, unknown>>;
  download?: (
    runner: RemoteRunner,
    dest: Destination,
    remotePath: string,
    localPath: string,
    options?: { signal?: AbortSignal },
  ) => Promise<{ bytesTransferred: number }>;
  push?: (
    runner: RemoteRunner,
    localDir: string,
    tree: { dest: Destination; path: string },
    options?: { signal?: AbortSignal },
  ) => Promise<{ uploaded: string[]; bytesSent: number }>;
  sendSnapshot?: (
    runner: RemoteRunner,
    options: { source: string; target: string; parent?: string | null; signal?: AbortSignal },
  ) => Promise<{ status: string; bytes: number }>;
  pullSnapshot?: SshmuxModule['sendSnapshot'];
}

export interface Sshmux {
  readonly mod: SshmuxModule;
  /** Why the whole module is unusable (no dist/index.js), or undefined. */
  readonly unavailable: string | undefined;
  /** undefined when `name` is exported, else the reason for "not measured". */
  missing(...names: (keyof SshmuxModule)[]): string | undefined;
}

/** Import the built package (what ships), tolerating features that have not landed yet. */
export async function loadSshmux(): Promise<Sshmux> {
  let mod: SshmuxModule = {};
  let unavailable: string | undefined;
  if (!existsSync(DIST_INDEX)) {
    unavailable = 'dist/index.js does not exist (src/index.ts has not landed)';
  } else {
    try {
      mod = (await import(pathToFileURL(DIST_INDEX).href)) as SshmuxModule;
    } catch (err) {
      unavailable = `dist/index.js failed to import: ${(err as Error).message}`;
    }
  }
  return {
    mod,
    unavailable,
    missing(...names) {
      if (unavailable) return unavailable;
      const absent = names.filter((n) => typeof mod[n] !== 'function');
      return absent.length > 0 ? `${absent.join(', ')} not exported by dist/index.js yet` : undefined;
    },
  };
}

/** The resolved HostConfig the pool gets: the container's `backup`, the harness key, one cipher. */
export function benchHostConfig(mod: SshmuxModule, sshd: Endpoint, cipher: string): HostConfig {
  const base = mod.plainHostConfig!({
    host: sshd.host,
    port: sshd.port,
    user: USER,
    identityFiles: [sshd.keyPath],
    strictHostKeyChecking: 'yes',
    userKnownHostsFiles: [sshd.knownHostsFile],
  });
  const host = { ...base, ciphers: [cipher], globalKnownHostsFiles: [], batchMode: true };
  const poolKey = mod.poolKeyOf ? mod.poolKeyOf(host) : `${base.poolKey}|ciphers=${cipher}`;
  return Object.freeze({ ...host, poolKey });
}

/** Whether ssh2's native crypto binding loads here (the same ssh2 dist/ uses). */
export function nativeBinding(): boolean {
  try {
    const require = createRequire(path.join(ROOT, 'package.json'));
    return Boolean((require('ssh2/lib/protocol/crypto') as { bindingAvailable?: boolean }).bindingAvailable);
  } catch {
    return false;
  }
}

/** `sshmux --version -v`, or the error it gave. */
export async function versionVerbose(): Promise<string> {
  if (!existsSync(CLI)) return 'dist/cli/sshmux.cjs missing';
  const r = await run(process.execPath, [CLI, '--version', '-v'], { timeoutMs: 30_000 });
  return (r.stdout || r.stderr).trim();
}
