import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_AUTH_SETTINGS } from './auth-options.js';
import type { HostConfig, PlainHostOptions } from './host-config.js';

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'root';
  }
}

/**
 * A HostConfig built from explicit values with OpenSSH's defaults, without reading any
 * ssh_config file: for library callers who already know host, port, user and key.
 */
export function plainHostConfig(options: PlainHostOptions): HostConfig {
  if (typeof options.host !== 'string' || options.host === '') {
    throw new ConfigError(
      `Expected \`host\` to be a non-empty string, got \`${String(options.host)}\` (${typeof options.host})`,
    );
  }
  const port = options.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(
      `Expected \`port\` to be an integer from 1 to 65535, got \`${port}\` (${typeof port})`,
    );
  }
  const home = os.homedir();
  const user = options.user ?? localUser();
  const identityFiles =
    options.identityFiles ??
    ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((f) =>
      path.join(home, '.ssh', f),
    );
  const host: HostConfig = {
    originalHost: options.host,
    hostname: options.host,
    port,
    user,
    identityFiles,
    identitiesOnly: options.identityFiles !== undefined,
    identityAgent: undefined,
    proxyJump: [],
    proxyCommand: undefined,
    proxyUseFdpass: false,
    connectTimeoutMs: options.connectTimeoutMs,
    serverAliveInterval: options.serverAliveInterval ?? 15,
    serverAliveCountMax: options.serverAliveCountMax ?? 3,
    strictHostKeyChecking: options.strictHostKeyChecking ?? 'ask',
    userKnownHostsFiles: options.userKnownHostsFiles ?? [
      path.join(home, '.ssh', 'known_hosts'),
      path.join(home, '.ssh', 'known_hosts2'),
    ],
    globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    hostKeyAlias: undefined,
    checkHostIp: false,
    hashKnownHosts: false,
    batchMode: false,
    ciphers: [],
    kexAlgorithms: [],
    macs: [],
    hostKeyAlgorithms: [],
    compression: false,
    sendEnv: [],
    setEnv: {},
    controlMaster: 'no',
    controlPath: undefined,
    controlPersistSeconds: undefined,
    connectionAttempts: 1,
    tcpKeepAlive: true,
    requiredRsaSize: 1024,
    bindAddress: undefined,
    bindInterface: undefined,
    addressFamily: 'any',
    authentication: DEFAULT_AUTH_SETTINGS,
    poolKey: '',
  };
  return Object.freeze({ ...host, poolKey: poolKeyOf(host) });
}

/** Connections may be shared only between configs that connect and authenticate identically. */
export function poolKeyOf(host: HostConfig): string {
  // Forwards are what one run does over the connection, not how it connects: they share it.
  const {
    poolKey: _ignored,
    originalHost: _alias,
    effective: _printed,
    origins: _origins,
    localForwards: _forwards,
    stdioForward: _stdio,
    ...rest
  } = host;
  // A ProxyCommand's %n and %k name the alias: then the alias decides what runs.
  return JSON.stringify(
    host.proxyCommand === undefined ? rest : { ...rest, originalHost: host.originalHost },
  );
}
