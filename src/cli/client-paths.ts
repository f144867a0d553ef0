import path from 'node:path';
import type { HostConfig } from '../config/host-config.js';
import { poolKeyOf } from '../config/plain.js';

// The daemon runs in its own directory (on Windows, possibly on another drive), so every file
// the daemon opens for a host is made absolute here, in the client, before the host config
// travels in the OPEN frame. On Windows `path.isAbsolute('\\x')` is true although `\x` means
// "x on the current drive": only a drive letter with a root, or a UNC/device path, is complete.

/** True when `file` names the same file from any working directory on `platform`. */
export function isFullPath(file: string, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return /^[A-Za-z]:[\\/]/.test(file) || /^[\\/]{2}/.test(file);
  return path.posix.isAbsolute(file);
}

/** `file` resolved against `cwd` (drive included on Windows); `~…` is left for tilde expansion. */
export function fullPath(file: string, cwd: string, platform: NodeJS.Platform = process.platform): string {
  if (file.startsWith('~') || isFullPath(file, platform)) return file;
  return (platform === 'win32' ? path.win32 : path.posix).resolve(cwd, file);
}

/**
 * An agent setting as the daemon must see it: a Windows path without a drive (`/x/agent`) gets
 * the client's; named pipes, `pageant`, `none`, `SSH_AUTH_SOCK` and `$VAR` stay as they are.
 */
function agentPath(agent: string | undefined, cwd: string, platform: NodeJS.Platform): string | undefined {
  if (agent === undefined || platform !== 'win32') return agent;
  return /^[\\/](?![\\/])/.test(agent) ? path.win32.resolve(cwd, agent) : agent;
}

/**
 * The host (and each resolved ProxyJump hop) with every path-valued setting the daemon reads
 * made complete against `cwd`: IdentityFile, UserKnownHostsFile, GlobalKnownHostsFile and
 * IdentityAgent. CertificateFile is refused by the config reader, and ControlPath, LocalCommand,
 * ProxyCommand and KnownHostsCommand are used by the client only.
 */
export function withClientPaths(
  resolved: HostConfig,
  cwd: string,
  platform: NodeJS.Platform = process.platform,
): HostConfig {
  const host: HostConfig = {
    ...resolved,
    identityFiles: resolved.identityFiles.map((f) => fullPath(f, cwd, platform)),
    userKnownHostsFiles: resolved.userKnownHostsFiles.map((f) => fullPath(f, cwd, platform)),
    globalKnownHostsFiles: resolved.globalKnownHostsFiles.map((f) => fullPath(f, cwd, platform)),
    identityAgent: agentPath(resolved.identityAgent, cwd, platform),
    ...(resolved.jumpHosts && {
      jumpHosts: resolved.jumpHosts.map((h) => withClientPaths(h, cwd, platform)),
    }),
  };
  return Object.freeze({ ...host, poolKey: poolKeyOf(host) });
}
