import { ConfigError } from '../errors.js';
import { buildHostConfig } from './build-host-config.js';
import { lexLine } from './config-lexer.js';
import { configPaths } from './config-paths.js';
import { processLines, type ReadPass, readConfigFile } from './config-reader.js';
import { isValidHostname, parseDestination } from './destination.js';
import type { HostConfig } from './host-config.js';
import { OptionStore } from './option-store.js';
import { normalizeResolveOptions, type ResolveOptions } from './resolve-options.js';
import { isSshConfigError, sshConfigError } from './ssh-error.js';
import { expandPercent, expandTilde } from './tokens.js';

export type { ResolveOptions } from './resolve-options.js';

/**
 * Resolve a destination (`host`, `user@host`, `ssh://user@host:port`, or an alias) through
 * ssh_config exactly as OpenSSH 9.2's `ssh -G` does, into a frozen HostConfig.
 */
export async function resolveHostConfig(
  destination: string,
  options: ResolveOptions = {},
): Promise<HostConfig> {
  const o = normalizeResolveOptions(options);
  const dest = parseDestination(destination);
  const paths = configPaths(o.platform, o.homeDir, o.env);
  const store = new OptionStore();
  const pass: ReadPass = {
    store,
    host: dest.host,
    originalHost: dest.host,
    postCanonical: false,
    allowMatchExec: o.allowMatchExec,
    localUser: o.localUser,
    homeDir: o.homeDir,
    localHostname: o.localHostname,
    uid: o.uid,
    env: o.env,
    systemDir: paths.systemDir,
    platform: o.platform,
    warn: o.onWarning,
    wantFinalPass: false,
  };
  const userFlags = { userConfig: true, checkPermissions: false, neverMatch: false };

  // Command line first: -o, then -l, -p, -i, -4/-6, then the destination's user and port.
  // ssh exits at the first bad -o, with readconf.c's message and nothing after it.
  try {
    for (const [k, v] of o.overrides) {
      const line = lexLine(`${k} ${v}`, 'command-line', 0);
      if (!line) throw new ConfigError(`command-line: bad option \`${k}=${v}\``);
      await processLines([line], pass, userFlags, 0, { value: true }, true);
    }
  } catch (err) {
    if (err instanceof ConfigError && !isSshConfigError(err))
      throw sshConfigError(err.message, { cause: err });
    throw err;
  }
  if (o.user !== undefined) store.setFirst('user', [o.user]);
  if (o.port !== undefined) store.force('port', [String(o.port)]);
  for (const file of o.identityFiles) {
    const expanded = expandTilde(file, o.homeDir, '-i');
    if (o.exists(expanded) && !store.get('identityfile')?.includes(expanded))
      store.append('identityfile', [expanded]);
  }
  if (o.addressFamily !== undefined) store.force('addressfamily', [o.addressFamily]);
  if (dest.user !== undefined) store.setFirst('user', [dest.user]);
  if (dest.port !== undefined) store.setFirst('port', [String(dest.port)]);

  const readAll = async (p: ReadPass) => {
    if (o.configFile === 'none') return;
    if (o.configFile !== undefined) {
      if (!(await readConfigFile(o.configFile, p, userFlags))) {
        throw new ConfigError(`Can't open user config file ${o.configFile}: no such file`);
      }
      return;
    }
    await readConfigFile(paths.userConfig, p, { ...userFlags, checkPermissions: true });
    await readConfigFile(paths.systemConfig, p, {
      userConfig: false,
      checkPermissions: false,
      neverMatch: false,
    });
  };
  await readAll(pass);

  // HostName with %h expanded becomes the host; lowercased like ssh.c before a final pass.
  const configured = store.first('hostname');
  const host = (
    configured === undefined ? dest.host : expandPercent(configured, { h: dest.host }, 'HostName')
  ).toLowerCase();
  if (pass.wantFinalPass) {
    store.force('hostname', [host]);
    await readAll({ ...pass, host, postCanonical: true });
  }
  if (!isValidHostname(host)) throw new ConfigError(`hostname contains invalid characters: \`${host}\``);
  return buildHostConfig(store, {
    ...o,
    host,
    originalHost: dest.host,
    globalKnownHosts: paths.globalKnownHosts,
  });
}
