import { ConfigError } from '../errors.js';
import { buildHostConfig } from './build-host-config.js';
import { lexLine } from './config-lexer.js';
import { configPaths } from './config-paths.js';
import { processLines, type ReadPass, readConfigFile } from './config-reader.js';
import { isValidHostname, parseDestination } from './destination.js';
import { parseForward } from './forward-spec.js';
import type { HostConfig } from './host-config.js';
import { resolveJumpHosts } from './jump-hosts.js';
import { addForward } from './keywords.js';
import { OptionStore } from './option-store.js';
import { cleanJump, proxyJumpProblem } from './proxy-jump.js';
import { validRemoteUser } from './remote-user.js';
import {
  type CommandLineItem,
  type NormalizedResolveOptions,
  normalizeResolveOptions,
  type ResolveOptions,
} from './resolve-options.js';
import { isSshConfigError, sshConfigError } from './ssh-error.js';
import { expandPercent, expandTilde } from './tokens.js';

export type { CommandLineItem, ResolveOptions } from './resolve-options.js';

const FORWARD_NAME = { L: 'local', R: 'remote', D: 'dynamic' } as const;

/** One command-line item, as ssh.c's getopt loop applies it. */
async function applyCommandLine(
  item: CommandLineItem,
  pass: ReadPass,
  o: NormalizedResolveOptions,
): Promise<void> {
  const store = pass.store;
  store.origin = COMMAND_LINE_ORIGIN[item.kind] ?? (item.kind === 'forward' ? `-${item.type}` : '-o');
  switch (item.kind) {
    case 'option': {
      const line = lexLine(`${item.key} ${item.value}`, 'command-line', 0);
      if (!line) throw new ConfigError(`command-line: bad option \`${item.key}=${item.value}\``);
      if (item.force) {
        // Assigned outright: parse into a scratch store, then overwrite.
        const scratch = new OptionStore();
        await processLines([line], { ...pass, store: scratch }, USER_FLAGS, 0, { value: true }, true);
        for (const [k, v] of scratch.snapshot()) store.force(k, v);
      } else await processLines([line], pass, USER_FLAGS, 0, { value: true }, true);
      return;
    }
    case 'force':
      store.force(item.key, [item.value]);
      return;
    case 'first':
      store.setFirst(item.key, [item.value]);
      return;
    case 'line': {
      const line = lexLine(item.text, 'command-line', 0);
      if (line) await processLines([line], pass, USER_FLAGS, 0, { value: true }, true);
      return;
    }
    case 'forward': {
      const fwd =
        parseForward(item.spec, item.type === 'D', item.type === 'R') ??
        (item.type === 'R' ? parseForward(item.spec, true, true) : undefined);
      if (fwd === undefined) {
        throw sshConfigError(`Bad ${FORWARD_NAME[item.type]} forwarding specification '${item.spec}'`, {
          plain: true,
        });
      }
      addForward(store, item.type === 'R' ? 'R' : 'L', fwd);
      return;
    }
    case 'jump':
      {
        // ssh.c: parse_jump(optarg, strict): host and user names are checked too.
        const problem = proxyJumpProblem(item.value, true);
        if (problem !== undefined) {
          throw sshConfigError(`${problem === '' ? '' : `${problem}\n`}Invalid -J argument`, {
            logged: true,
          });
        }
      }
      // A later ProxyCommand then never applies (ProxyJump and ProxyCommand: first wins).
      store.force('proxyjump', [cleanJump(item.value)]);
      return;
    case 'identity': {
      const expanded = expandTilde(item.file, o.homeDir, '-i');
      if (o.exists(expanded) && !store.get('identityfile')?.includes(expanded))
        store.append('identityfile', [expanded]);
      return;
    }
  }
}

/** How `sshmux doctor` names a value's origin when it came from a flag rather than a file line. */
const COMMAND_LINE_ORIGIN: Partial<Record<CommandLineItem['kind'], string>> = {
  option: '-o',
  line: '-o',
  force: 'command line',
  first: '-l',
  jump: '-J',
  identity: '-i',
};

const USER_FLAGS = { userConfig: true, checkPermissions: false, neverMatch: false };

/**
 * Resolve a destination (`host`, `user@host`, `ssh://user@host:port`, or an alias) through
 * ssh_config exactly as OpenSSH 9.2's `ssh -G` does, into a frozen HostConfig.
 */
export async function resolveHostConfig(
  destination: string,
  options: ResolveOptions = {},
): Promise<HostConfig> {
  const o = normalizeResolveOptions(options);
  const target = await resolveOne(destination, o);
  return o.resolveJumpHosts ? resolveJumpHosts(target, o, resolveOne) : target;
}

/** One destination through ssh_config, its ProxyJump hops left unresolved. */
async function resolveOne(destination: string, o: NormalizedResolveOptions): Promise<HostConfig> {
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
    for (const item of o.commandLine) await applyCommandLine(item, pass, o);
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
  // A user from the command line is checked for shell metacharacters once resolved (ssh.c, CVE-2023-51385).
  const userFromCommandLine = store.has('user') || o.user !== undefined;
  store.origin = '-l';
  if (o.user !== undefined) store.setFirst('user', [o.user]);
  store.origin = '-p';
  if (o.port !== undefined) store.force('port', [String(o.port)]);
  store.origin = '-i';
  for (const file of o.identityFiles) {
    const expanded = expandTilde(file, o.homeDir, '-i');
    if (o.exists(expanded) && !store.get('identityfile')?.includes(expanded))
      store.append('identityfile', [expanded]);
  }
  store.origin = o.addressFamily === 'inet' ? '-4' : '-6';
  if (o.addressFamily !== undefined) store.force('addressfamily', [o.addressFamily]);
  store.origin = 'destination';
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
    store.origin = store.origins().get('hostname')?.[0] ?? 'destination';
    store.force('hostname', [host]);
    await readAll({ ...pass, host, postCanonical: true });
  }
  if (!isValidHostname(host)) throw new ConfigError(`hostname contains invalid characters: \`${host}\``);
  const built = buildHostConfig(store, {
    ...o,
    host,
    originalHost: dest.host,
    globalKnownHosts: paths.globalKnownHosts,
  });
  if (userFromCommandLine && !validRemoteUser(built.user)) {
    throw sshConfigError('remote username contains invalid characters', { logged: true });
  }
  return built;
}

export { validRemoteUser } from './remote-user.js';
