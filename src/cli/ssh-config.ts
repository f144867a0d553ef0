import path from 'node:path';
import type { HostConfig, StrictHostKeyChecking } from '../config/host-config.js';
import { matchPattern } from '../config/pattern.js';
import { plainHostConfig, poolKeyOf } from '../config/plain.js';
import { ConfigError } from '../errors.js';
import type { SshArgs } from './ssh-args.js';

const STRICT: Record<string, StrictHostKeyChecking> = {
  yes: 'yes',
  no: 'no',
  off: 'no',
  'accept-new': 'accept-new',
  ask: 'ask',
};

function first(options: readonly [string, string][], key: string): string | undefined {
  return options.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
}

function yesNo(value: string, key: string): boolean {
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new ConfigError(`sshmux ssh: bad ${key} value \`${value}\` (expected yes or no)`);
}

/**
 * Resolve the HostConfig for `sshmux ssh` from its arguments. Relative `-i`/`-F` paths are
 * made absolute here, so a daemon with another working directory reads the same files.
 */
export async function resolveSshHost(args: SshArgs, cwd = process.cwd()): Promise<HostConfig> {
  const o = args.options;
  const strictText = first(o, 'StrictHostKeyChecking');
  const strict = strictText === undefined ? undefined : STRICT[strictText.toLowerCase()];
  if (strictText !== undefined && !strict) {
    throw new ConfigError(`sshmux ssh: bad StrictHostKeyChecking value \`${strictText}\``);
  }
  const portText = first(o, 'Port');
  const port = args.port ?? (portText === undefined ? undefined : Number(portText));
  const user = args.user ?? first(o, 'User');
  const identityFiles = [
    ...args.identityFiles,
    ...o.filter(([k]) => k.toLowerCase() === 'identityfile').map(([, v]) => v),
  ].map((f) => path.resolve(cwd, f));
  const known = first(o, 'UserKnownHostsFile');
  const connectTimeout = first(o, 'ConnectTimeout');
  const base = plainHostConfig({
    host: first(o, 'HostName') ?? args.destination,
    ...(port !== undefined && { port }),
    ...(user !== undefined && { user }),
    ...(identityFiles.length > 0 && { identityFiles }),
    ...(strict !== undefined && { strictHostKeyChecking: strict }),
    ...(known !== undefined && { userKnownHostsFiles: known.split(/\s+/).map((f) => path.resolve(cwd, f)) }),
    ...(connectTimeout !== undefined && { connectTimeoutMs: Number(connectTimeout) * 1000 }),
  });
  const batch = first(o, 'BatchMode');
  const persist = first(o, 'ControlPersist');
  const sendEnv = o.filter(([k]) => k.toLowerCase() === 'sendenv').flatMap(([, v]) => v.split(/\s+/));
  const host: HostConfig = {
    ...base,
    originalHost: args.destination,
    addressFamily: args.addressFamily,
    batchMode: batch === undefined ? base.batchMode : yesNo(batch, 'BatchMode'),
    sendEnv,
    controlPersistSeconds: persist === undefined || !/^\d+$/.test(persist) ? undefined : Number(persist),
  };
  return Object.freeze({ ...host, poolKey: poolKeyOf(host) });
}

/** Print a HostConfig the way `ssh -G` does: lowercase keyword, space, value. */
export function formatHostConfig(host: HostConfig): string {
  const lines = [
    `user ${host.user}`,
    `hostname ${host.hostname}`,
    `port ${host.port}`,
    `addressfamily ${host.addressFamily}`,
    `batchmode ${host.batchMode ? 'yes' : 'no'}`,
    `stricthostkeychecking ${host.strictHostKeyChecking === 'no' ? 'false' : host.strictHostKeyChecking === 'yes' ? 'true' : host.strictHostKeyChecking}`,
    ...host.identityFiles.map((f) => `identityfile ${f}`),
    `userknownhostsfile ${host.userKnownHostsFiles.join(' ')}`,
    ...host.sendEnv.map((e) => `sendenv ${e}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The environment ssh would send: variables named by SendEnv patterns, then SetEnv, plus
 * GIT_PROTOCOL when set, so git's protocol v2 works even when called without `-o SendEnv`.
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
