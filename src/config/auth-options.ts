import { ConfigError } from '../errors.js';
import type { OptionStore } from './option-store.js';

/** The client's authentication settings, as OpenSSH 9.2's readconf.c leaves them after defaults. */
export interface AuthSettings {
  /** PubkeyAuthentication: `yes`/`unbound` offer keys; `no` offers neither keys nor agent. */
  readonly pubkey: boolean;
  /** PasswordAuthentication. */
  readonly password: boolean;
  /** KbdInteractiveAuthentication. */
  readonly kbdInteractive: boolean;
  /** KbdInteractiveDevices; undefined = the server's default devices. */
  readonly kbdInteractiveDevices: string | undefined;
  /** PreferredAuthentications, in order; the default is ssh's compiled-in list. */
  readonly preferred: readonly string[];
  /** NumberOfPasswordPrompts: tries per password or passphrase. */
  readonly numberOfPasswordPrompts: number;
  /** HostbasedAuthentication (refused by sshmux when yes). */
  readonly hostbased: boolean;
  /** GSSAPIAuthentication. */
  readonly gssapi: boolean;
  /** PubkeyAuthentication's raw value when it asks for something sshmux cannot do (`host-bound`). */
  readonly pubkeyMode: 'yes' | 'unbound' | 'host-bound' | 'no';
}

/** sshconnect2.c's method table order; ssh uses it when PreferredAuthentications is unset. */
export const DEFAULT_PREFERRED = Object.freeze([
  'gssapi-with-mic',
  'hostbased',
  'publickey',
  'keyboard-interactive',
  'password',
]);

export const DEFAULT_AUTH_SETTINGS: AuthSettings = Object.freeze({
  pubkey: true,
  password: true,
  kbdInteractive: true,
  kbdInteractiveDevices: undefined,
  preferred: DEFAULT_PREFERRED,
  numberOfPasswordPrompts: 3,
  hostbased: false,
  gssapi: false,
  pubkeyMode: 'yes',
});

function flag(store: OptionStore, keyword: string, name: string, def: boolean): boolean {
  const raw = store.first(keyword);
  if (raw === undefined) return def;
  const v = raw.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw new ConfigError(`${name}: unsupported option "${raw}" (expected yes or no)`);
}

function pubkeyMode(raw: string | undefined): AuthSettings['pubkeyMode'] {
  const v = (raw ?? 'yes').toLowerCase();
  if (v === 'yes' || v === 'true') return 'yes';
  if (v === 'no' || v === 'false') return 'no';
  if (v === 'unbound' || v === 'host-bound') return v;
  throw new ConfigError(
    `PubkeyAuthentication: unsupported option "${raw}" (expected yes, no, unbound or host-bound)`,
  );
}

/** Derive the typed settings from the effective (first-wins) options; bad values are config errors. */
export function authSettingsFrom(store: OptionStore): AuthSettings {
  const mode = pubkeyMode(store.first('pubkeyauthentication'));
  const preferredRaw = store.first('preferredauthentications');
  const prompts = store.first('numberofpasswordprompts');
  if (prompts !== undefined && !/^\d+$/.test(prompts)) {
    throw new ConfigError(`NumberOfPasswordPrompts: bad number "${prompts}"`);
  }
  return Object.freeze({
    pubkey: mode !== 'no',
    password: flag(store, 'passwordauthentication', 'PasswordAuthentication', true),
    kbdInteractive: flag(store, 'kbdinteractiveauthentication', 'KbdInteractiveAuthentication', true),
    kbdInteractiveDevices: store.first('kbdinteractivedevices'),
    preferred: Object.freeze(
      preferredRaw === undefined ? [...DEFAULT_PREFERRED] : preferredRaw.split(',').filter((m) => m !== ''),
    ),
    numberOfPasswordPrompts: prompts === undefined ? 3 : Number(prompts),
    hostbased: flag(store, 'hostbasedauthentication', 'HostbasedAuthentication', false),
    gssapi: flag(store, 'gssapiauthentication', 'GSSAPIAuthentication', false),
    pubkeyMode: mode,
  });
}
