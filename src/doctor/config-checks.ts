import type { HostConfig } from '../config/host-config.js';
import { assertConnectable } from '../config/keyword-support.js';
import { effectiveFromTyped } from '../config/ssh-g.js';
import { check, type DoctorCheck } from './types.js';

/** The lines that decide where and how a connection goes, in the order a reader wants them. */
const IMPORTANT: readonly (readonly [keyword: string, name: string])[] = [
  ['hostname', 'HostName'],
  ['user', 'User'],
  ['port', 'Port'],
  ['identityfile', 'IdentityFile'],
  ['identitiesonly', 'IdentitiesOnly'],
  ['identityagent', 'IdentityAgent'],
  ['userknownhostsfile', 'UserKnownHostsFile'],
  ['globalknownhostsfile', 'GlobalKnownHostsFile'],
  ['stricthostkeychecking', 'StrictHostKeyChecking'],
  ['hostkeyalias', 'HostKeyAlias'],
  ['knownhostscommand', 'KnownHostsCommand'],
  ['proxyjump', 'ProxyJump'],
  ['proxycommand', 'ProxyCommand'],
  ['controlmaster', 'ControlMaster'],
  ['controlpath', 'ControlPath'],
  ['controlpersist', 'ControlPersist'],
  ['connecttimeout', 'ConnectTimeout'],
  ['batchmode', 'BatchMode'],
  ['serveraliveinterval', 'ServerAliveInterval'],
];

/** Keywords the report shows only when set, since their default says nothing. */
const ONLY_WHEN_SET = new Set([
  'hostkeyalias',
  'knownhostscommand',
  'proxyjump',
  'proxycommand',
  'identityagent',
]);

/** `file:line` of each value, or `default` when no line set it. */
function originText(values: readonly string[], origins: readonly string[] | undefined): string {
  if (origins === undefined || origins.length === 0) return 'default';
  const distinct = [...new Set(origins)];
  return distinct.length === 1 || distinct.length !== values.length
    ? distinct.join(', ')
    : origins.join(', ');
}

/**
 * The resolved configuration's important lines, each with where it came from (file:line, `-o`,
 * `-p`…, or `default`), as `ssh -G` would print the value; then whether sshmux can honour all of it.
 */
export function configChecks(host: HostConfig, warnings: readonly string[]): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  const effective = host.effective ?? new Map<string, readonly string[]>();
  // Defaults not stored as configured lines come from the typed fields.
  const typed = effectiveFromTyped(host);
  typed.set('stricthostkeychecking', [host.strictHostKeyChecking]);
  for (const [keyword, name] of IMPORTANT) {
    const values =
      keyword === 'stricthostkeychecking'
        ? typed.get(keyword)
        : (effective.get(keyword) ?? typed.get(keyword));
    const origins = host.origins?.get(keyword);
    if (values === undefined || (ONLY_WHEN_SET.has(keyword) && origins === undefined)) continue;
    const from = originText(values, origins);
    const insecure = keyword === 'stricthostkeychecking' && host.strictHostKeyChecking === 'no';
    out.push(
      check({
        section: 'config',
        id: `config.${keyword}`,
        status: insecure ? 'warn' : 'ok',
        summary: `${name} ${values.join(' ')}  (${from})`,
        ...(insecure && {
          advice: `StrictHostKeyChecking no accepts any host key: set it to yes or accept-new (${from})`,
        }),
        data: { keyword: name, values, origins: origins ?? [], origin: from },
      }),
    );
  }
  for (const warning of warnings) {
    out.push(
      check({
        section: 'config',
        id: 'config.warning',
        status: 'warn',
        summary: warning,
        advice: 'remove the option, or keep it for OpenSSH behind `Match exec` / `IgnoreUnknown`',
      }),
    );
  }
  try {
    assertConnectable(host);
  } catch (err) {
    out.push(
      check({
        section: 'config',
        id: 'config.unsupported',
        status: 'fail',
        summary: (err as Error).message,
        advice: 'remove that option for this host (`Host` / `Match`), or use OpenSSH for it',
      }),
    );
  }
  return out;
}
