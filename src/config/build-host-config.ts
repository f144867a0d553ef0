import { ConfigError } from '../errors.js';
import { assembleAlgorithms } from './algorithm-lists.js';
import { authSettingsFrom } from './auth-options.js';
import { type Forward, formatConnect, formatListen, parseForward, printedLocal } from './forward-spec.js';
import type { HostConfig, StrictHostKeyChecking } from './host-config.js';
import type { OptionStore } from './option-store.js';
import { poolKeyOf } from './plain.js';
import { formatHop, parseProxyJump } from './proxy-jump.js';
import type { NormalizedResolveOptions } from './resolve-options.js';
import { sshConfigError } from './ssh-error.js';
import { clientTokens, expandPath, expandPercent, type TokenContext } from './tokens.js';

/** Keywords whose value `none` is no value (readconf.c fill_default_options, CLEAR_ON_NONE). */
const CLEARED_BY_NONE = [
  'localcommand',
  'remotecommand',
  'proxycommand',
  'controlpath',
  'pkcs11provider',
  'securitykeyprovider',
  'knownhostscommand',
];

const DEFAULT_IDENTITY_FILES = [
  'id_rsa',
  'id_ecdsa',
  'id_ecdsa_sk',
  'id_ed25519',
  'id_ed25519_sk',
  'id_xmss',
  'id_dsa',
].map((f) => `~/.ssh/${f}`);
const STRICT_TYPED: Record<string, StrictHostKeyChecking> = {
  true: 'yes',
  false: 'no',
  ask: 'ask',
  'accept-new': 'accept-new',
};
const MASTER_TYPED: Record<string, string> = {
  true: 'yes',
  false: 'no',
  auto: 'auto',
  ask: 'ask',
  autoask: 'autoask',
};

export interface BuildContext extends NormalizedResolveOptions {
  /** Final remote host name (HostName expanded, lowercased). */
  readonly host: string;
  /** The host as typed (`%n`, printed as `host`). */
  readonly originalHost: string;
  readonly globalKnownHosts: readonly string[];
}

/** ssh -G keeps all hops but the last as written and prints the last one parsed (readconf.c). */
function printedJump(raw: string, hops: readonly string[]): string {
  const comma = raw.lastIndexOf(',');
  return comma === -1 ? hops[hops.length - 1]! : `${raw.slice(0, comma)},${hops[hops.length - 1]!}`;
}

/** ssh.c: a last ProxyJump hop that is the destination itself (host, port and user) would recurse forever. */
function assertNoJumpLoop(jumpRaw: string | undefined, ctx: TokenContext): void {
  if (jumpRaw === undefined || jumpRaw.toLowerCase() === 'none') return;
  const last = parseProxyJump(jumpRaw.replace(/["']/g, ''), 'ProxyJump').at(-1);
  if (
    last &&
    last.host === ctx.host &&
    (last.port ?? 22) === ctx.port &&
    (last.user ?? ctx.user) === ctx.user
  ) {
    throw sshConfigError(`jumphost loop via ${last.host}`, { logged: true });
  }
}

/** Apply OpenSSH's defaults and token expansion to the effective options, into a frozen HostConfig. */
export function buildHostConfig(store: OptionStore, c: BuildContext): HostConfig {
  const first = (k: string, def: string) => store.first(k) ?? def;
  const user = first('user', c.localUser);
  const port = Number(first('port', '22'));
  // ssh.c lowercases HostKeyAlias before using or printing it.
  const hostKeyAlias = store.first('hostkeyalias')?.toLowerCase();
  const ctx: TokenContext = {
    host: c.host,
    originalHost: c.originalHost,
    port,
    user,
    localUser: c.localUser,
    homeDir: c.homeDir,
    localHostname: c.localHostname,
    uid: c.uid,
    hostKeyAlias,
  };
  const expand = (v: string, what: string) => expandPath(v, ctx, c.env, what);
  assertNoJumpLoop(store.first('proxyjump'), ctx);

  const identityRaw = store.get('identityfile') ?? DEFAULT_IDENTITY_FILES;
  const userKnownRaw = store.get('userknownhostsfile') ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
  const userKnown = userKnownRaw.map((f) => expand(f, 'UserKnownHostsFile'));
  const globalKnown = store.get('globalknownhostsfile') ?? c.globalKnownHosts;
  const controlPathRaw = store.first('controlpath');
  const controlPath =
    controlPathRaw === undefined || controlPathRaw === 'none'
      ? undefined
      : expand(controlPathRaw, 'ControlPath');
  const agentRaw = store.first('identityagent');
  const agent = agentRaw === undefined ? undefined : expand(agentRaw, 'IdentityAgent');
  const jumpRaw = store.first('proxyjump');
  // `ProxyCommand none` clears it (ssh.c); ProxyJump and ProxyCommand exclude each other in the store.
  const proxyCommandRaw = store.first('proxycommand');
  const proxyCommand =
    proxyCommandRaw === undefined || proxyCommandRaw.toLowerCase() === 'none' ? undefined : proxyCommandRaw;
  // -G prints -J hops as typed; connecting, ssh's generated ProxyCommand goes through a shell,
  // which removes the quotes.
  const printedHops = jumpRaw === undefined ? [] : parseProxyJump(jumpRaw, 'ProxyJump').map(formatHop);
  const proxyJump =
    jumpRaw === undefined ? [] : parseProxyJump(jumpRaw.replace(/["']/g, ''), 'ProxyJump').map(formatHop);
  const connectTimeout = first('connecttimeout', 'none');
  // BatchMode raises the keepalive default to 300 s (readconf.c fill_default_options).
  const aliveInterval = first('serveraliveinterval', first('batchmode', 'no') === 'yes' ? '300' : '0');
  const persist = first('controlpersist', 'no');
  const algorithms = {
    ciphers: assembleAlgorithms('ciphers', store.first('ciphers')),
    kexalgorithms: assembleAlgorithms('kexalgorithms', store.first('kexalgorithms')),
    macs: assembleAlgorithms('macs', store.first('macs')),
    hostkeyalgorithms: assembleAlgorithms('hostkeyalgorithms', store.first('hostkeyalgorithms')),
  };
  const knownHostsCommand = store.first('knownhostscommand');
  // `sshmux ssh` refuses 0 or less with ssh's words (cli/ssh-checks.ts); the socket, for everyone.
  const attempts = Number(first('connectionattempts', '1'));
  const setEnv: Record<string, string> = {};
  for (const kv of store.get('setenv') ?? []) {
    const eq = kv.indexOf('=');
    setEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }

  // The printed (ssh -G) form of everything; keywords sshmux does not interpret pass through raw.
  const effective = new Map(store.snapshot());
  const put = (k: string, v: readonly string[] | undefined) => {
    if (v === undefined) effective.delete(k);
    else effective.set(k, Object.freeze([...v]));
  };
  put('host', [c.originalHost]);
  put('user', [user]);
  put('hostname', [c.host]);
  put('port', [String(port)]);
  put('hostkeyalias', hostKeyAlias === undefined ? undefined : [hostKeyAlias]);
  put('serveraliveinterval', [aliveInterval]);
  put('identityfile', identityRaw);
  put('userknownhostsfile', userKnown);
  put('globalknownhostsfile', globalKnown);
  put('controlpath', controlPath === undefined ? undefined : [controlPath]);
  put('identityagent', agent === undefined ? undefined : [agent]);
  // ssh.c expands a ForwardAgent socket path (tilde, tokens, ${VAR}) before -G prints it.
  // yes/true and no/false are readconf.c's multistate_flag, printed yes and no.
  const forwardAgent = store.first('forwardagent');
  const agentFlag = { yes: 'yes', true: 'yes', no: 'no', false: 'no' }[forwardAgent?.toLowerCase() ?? ''];
  if (forwardAgent !== undefined) put('forwardagent', [agentFlag ?? expand(forwardAgent, 'ForwardAgent')]);
  put(
    'proxyjump',
    jumpRaw === undefined || printedHops.length === 0 ? undefined : [printedJump(jumpRaw, printedHops)],
  );
  for (const [k, v] of Object.entries(algorithms)) put(k, [v.join(',')]);
  // ssh.c expands the socket paths of forwards with the client tokens before -G prints them.
  const expandForward = (f: Forward): Forward => ({
    ...f,
    listenPath: f.listenPath && expandPercent(f.listenPath, clientTokens(ctx), 'forward path'),
    connectPath: f.connectPath && expandPercent(f.connectPath, clientTokens(ctx), 'forward path'),
  });
  // fill_default_options: a stdio forward (-W) makes ClearAllForwardings and ExitOnForwardFailure
  // default to yes; ClearAllForwardings yes then drops every forward, wherever it came from.
  const stdioDefault = store.has('#stdioforward') ? 'yes' : 'no';
  put('clearallforwardings', [first('clearallforwardings', stdioDefault)]);
  put('exitonforwardfailure', [first('exitonforwardfailure', stdioDefault)]);
  const cleared = first('clearallforwardings', stdioDefault) === 'yes';
  const forwards = (list: string): Forward[] =>
    cleared ? [] : (store.get(list) ?? []).map((j) => expandForward(JSON.parse(j) as Forward));
  const locals = forwards('#forwards-L');
  const stdio = stdioTarget(store.first('#stdioforward'));
  const remotes = forwards('#forwards-R');
  if (cleared) for (const k of ['localforward', 'remoteforward', 'dynamicforward']) put(k, undefined);
  // fill_default_options' CLEAR_ON_NONE: `none` here means no value at all (not even the default).
  for (const k of CLEARED_BY_NONE) if (store.first(k)?.toLowerCase() === 'none') put(k, []);
  if (locals.length > 0) {
    const printed = locals.map(printedLocal);
    put(
      'dynamicforward',
      printed.flatMap((p) => (p.dynamic === undefined ? [] : [p.dynamic])),
    );
    put(
      'localforward',
      printed.flatMap((p) => (p.local === undefined ? [] : [p.local])),
    );
  }
  if (remotes.length > 0)
    put(
      'remoteforward',
      remotes.map((f) => `${formatListen(f)} ${formatConnect(f)}`),
    );
  // ssh.c expands RemoteCommand's % tokens before -G prints it.
  const remoteCommand = store.first('remotecommand');
  if (remoteCommand !== undefined && remoteCommand.toLowerCase() !== 'none')
    put('remotecommand', [expandPercent(remoteCommand, clientTokens(ctx), 'RemoteCommand')]);
  // fill_default_options: UpdateHostKeys defaults on only without VerifyHostKeyDNS and with the default known_hosts.
  if (!store.has('updatehostkeys')) {
    const dns = store.first('verifyhostkeydns');
    const files = store.get('userknownhostsfile');
    const defaultFiles = files === undefined || (files.length === 1 && files[0] === '~/.ssh/known_hosts');
    put('updatehostkeys', [(dns === undefined || dns === 'false') && defaultFiles ? 'true' : 'false']);
  }
  // Printed assembled like the four above (fill_default_options runs kex_assemble_names on them).
  for (const k of [
    'pubkeyacceptedalgorithms',
    'hostbasedacceptedalgorithms',
    'casignaturealgorithms',
  ] as const) {
    put(k, [assembleAlgorithms(k, store.first(k)).join(',')]);
  }

  const identityFiles = identityRaw.map((f) => expand(f, 'IdentityFile'));
  const agentTyped =
    agent === undefined || agent === 'SSH_AUTH_SOCK'
      ? undefined
      : agent.startsWith('$') && !agent.startsWith('${')
        ? (c.env[agent.slice(1)] ?? 'none')
        : agent;
  const timeoutSeconds = connectTimeout === 'none' ? 0 : Number(connectTimeout);
  const strict = STRICT_TYPED[first('stricthostkeychecking', 'ask')];
  const controlMaster = MASTER_TYPED[first('controlmaster', 'false')];
  if (strict === undefined || controlMaster === undefined)
    throw new ConfigError('internal: unnormalized option');
  const host: HostConfig = {
    originalHost: c.originalHost,
    hostname: c.host.replace(/^\[(.*)\]$/, '$1'),
    port,
    user,
    identityFiles,
    identitiesOnly: first('identitiesonly', 'no') === 'yes',
    identityAgent: agentTyped,
    proxyJump,
    proxyCommand,
    proxyUseFdpass: ['yes', 'true'].includes(first('proxyusefdpass', 'no').toLowerCase()),
    connectTimeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined,
    serverAliveInterval: Number(aliveInterval),
    serverAliveCountMax: Number(first('serveralivecountmax', '3')),
    strictHostKeyChecking: strict,
    userKnownHostsFiles: userKnown.length === 1 && userKnown[0] === 'none' ? [] : userKnown,
    globalKnownHostsFiles: globalKnown.length === 1 && globalKnown[0] === 'none' ? [] : globalKnown,
    hostKeyAlias,
    checkHostIp: first('checkhostip', 'no') === 'yes',
    hashKnownHosts: first('hashknownhosts', 'no') === 'yes',
    updateHostKeys: first('updatehostkeys', 'false') === 'true',
    batchMode: first('batchmode', 'no') === 'yes',
    ciphers: algorithms.ciphers,
    kexAlgorithms: algorithms.kexalgorithms,
    macs: algorithms.macs,
    hostKeyAlgorithms: algorithms.hostkeyalgorithms,
    compression: first('compression', 'no') === 'yes',
    sendEnv: store.get('sendenv') ?? [],
    setEnv,
    controlMaster,
    controlPath,
    controlPersistSeconds:
      persist === 'no' ? undefined : persist === 'yes' ? Number.POSITIVE_INFINITY : Number(persist),
    knownHostsCommand:
      knownHostsCommand === undefined || knownHostsCommand.toLowerCase() === 'none'
        ? undefined
        : Object.freeze({ command: knownHostsCommand, tokens: Object.freeze(clientTokens(ctx)) }),
    connectionAttempts: attempts,
    tcpKeepAlive: first('tcpkeepalive', 'yes') === 'yes',
    requiredRsaSize: Number(first('requiredrsasize', '1024')),
    bindAddress: store.first('bindaddress'),
    bindInterface: store.first('bindinterface'),
    addressFamily: first('addressfamily', 'any') as HostConfig['addressFamily'],
    authentication: authSettingsFrom(store),
    localForwards: Object.freeze(locals),
    ...(stdio !== undefined && { stdioForward: stdio }),
    poolKey: '',
    effective,
    origins: store.origins(),
  };
  return Object.freeze({ ...host, poolKey: poolKeyOf(host) });
}

/** ssh.c's -W: the listen half of a dynamic-forward spec names the target; a bare port names none. */
function stdioTarget(spec: string | undefined): HostConfig['stdioForward'] {
  if (spec === undefined) return undefined;
  const f = parseForward(spec, true, false);
  if (f?.listenPath !== undefined) return Object.freeze({ path: f.listenPath });
  if (f?.listenHost === undefined) return undefined;
  return Object.freeze({ host: f.listenHost, port: f.listenPort });
}
