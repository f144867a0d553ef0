import type { HostConfig } from '../../src/config/host-config.js';
import type { SshPoolOptions } from '../../src/pool/options.js';
import type { SshPool } from '../../src/pool/ssh-pool.js';

/** Both servers' MaxSessions in the interop suite, so the same bodies see the same spill. */
export const INTEROP_MAX_SESSIONS = 4;

/**
 * What the interop suite needs of a server: the OpenSSH container (test/helpers/sshd.ts) and the
 * embedded ssh2 server (test/helpers/embedded/) both provide it, so one body tests the client
 * against two independent SSH implementations.
 */
export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly keyPath: string;
  readonly knownHostsFile: string;
  readonly tmpDir: string;
  /** The login directory of `backup`, as a path on the server. */
  readonly home: string;
  hostConfig(user?: string): HostConfig;
  pool(options?: SshPoolOptions): SshPool;
  writeSshConfig(alias?: string, user?: string): string;
  countLogins(user?: string): Promise<number>;
  /** Run `sh -c script` on the server as `backup` in its home, not through sshmux; fails on non-zero exit. */
  sh(script: string): Promise<string>;
  stop(): Promise<void>;
}

export interface ServerKind {
  readonly name: string;
  /** Why the suite cannot run against this server on this machine, or undefined when it can. */
  unsupportedHere(): string | undefined;
  start(): Promise<TestServer>;
}
