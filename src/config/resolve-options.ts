import { existsSync } from 'node:fs';
import os from 'node:os';
import { ConfigError } from '../errors.js';

/**
 * One thing ssh's command line sets, in argv order: an `-o`-style option (first one wins, like a
 * config line; `force` for flags ssh.c assigns outright, such as -J/-c/-m/-e), a printed value
 * assigned outright (`-A` → `forwardagent yes`), a forward (-L/-R/-D) or an identity (-i).
 */
export type CommandLineItem =
  | {
      /** `-o Key=Value` split already. */
      readonly kind: 'option';
      /** The keyword. */
      readonly key: string;
      /** Its value. */
      readonly value: string;
      /** Assign outright, as ssh's flags do, instead of first-wins. */
      readonly force?: boolean;
    }
  | {
      /** A flag's value assigned outright (`-A` → `forwardagent yes`). */
      readonly kind: 'force';
      /** The lowercase keyword. */
      readonly key: string;
      /** Its value. */
      readonly value: string;
    }
  | {
      /** A value ssh.c assigns unparsed when nothing set it yet (`-l`: any bytes, even empty). */
      readonly kind: 'first';
      /** The lowercase keyword. */
      readonly key: string;
      /** Its value. */
      readonly value: string;
    }
  | {
      /** `-o text`, as typed: parsed like a config line (`Key value`, `Key=value`, quotes). */
      readonly kind: 'line';
      /** The option's text. */
      readonly text: string;
    }
  | {
      /** `-L`, `-R` or `-D`. */
      readonly kind: 'forward';
      /** Which of them. */
      readonly type: 'L' | 'R' | 'D';
      /** The forwarding specification as typed. */
      readonly spec: string;
    }
  | {
      /** `-i file`. */
      readonly kind: 'identity';
      /** The identity file, `~` allowed. */
      readonly file: string;
    }
  | {
      /** `-J`. */
      readonly kind: 'jump';
      /** The hops as typed (quotes included, as ssh -G prints them). */
      readonly value: string;
    };

/** Options of `resolveHostConfig`, mirroring ssh's command line. */
export interface ResolveOptions {
  /** `-F`: the only file read; `'none'` reads none. @default `~/.ssh/config` then the system file */
  configFile?: string;
  /** `-o Key=Value` pairs, in order; applied before any file, so they win. @default [] */
  overrides?: readonly (readonly [string, string])[];
  /** ssh's command line in argv order (see CommandLineItem); applied before `overrides`. @default [] */
  commandLine?: readonly CommandLineItem[];
  /** `-p`. */
  port?: number;
  /** `-l`. */
  user?: string;
  /** `-i` files, tried before configured ones; files that do not exist are skipped, as ssh does. @default [] */
  identityFiles?: readonly string[];
  /** `-4` (`inet`) / `-6` (`inet6`). */
  addressFamily?: 'any' | 'inet' | 'inet6';
  /** Run `Match exec` commands (`$SHELL -c`, else `/bin/sh -c`, as ssh); when false such a Match fails with a ConfigError. @default false */
  allowMatchExec?: boolean;
  /** @default the account's home directory (`%d`, `~`) */
  homeDir?: string;
  /** @default the account's user name (`%u`, default User) */
  localUser?: string;
  /** @default os.hostname() (`%l`, `%L`, `%C`) */
  localHostname?: string;
  /** @default process.getuid() (`%i`) */
  uid?: number;
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** Environment for `${VAR}` and Match exec. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Resolve each ProxyJump hop through the configuration into `jumpHosts`. `ssh -G` does not
   * (it never looks at a hop), so `-G` passes false. @default true
   */
  resolveJumpHosts?: boolean;
  /** Receives the non-fatal messages ssh prints while reading (`Unsupported option "…"`). @default ignore them */
  onWarning?: (message: string) => void;
}

/** Options validated once and fully defaulted. */
export interface NormalizedResolveOptions {
  readonly configFile: string | undefined;
  readonly overrides: readonly (readonly [string, string])[];
  readonly commandLine: readonly CommandLineItem[];
  readonly port: number | undefined;
  readonly user: string | undefined;
  readonly identityFiles: readonly string[];
  readonly addressFamily: 'any' | 'inet' | 'inet6' | undefined;
  readonly allowMatchExec: boolean;
  readonly homeDir: string;
  readonly localUser: string;
  readonly localHostname: string;
  readonly uid: string;
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly resolveJumpHosts: boolean;
  readonly onWarning: (message: string) => void;
  /** Whether a local file exists (for `-i`). */
  readonly exists: (file: string) => boolean;
}

function describe(v: unknown): string {
  return `\`${typeof v === 'string' ? v : JSON.stringify(v)}\` (${typeof v})`;
}

function account(): { name: string; home: string } {
  try {
    const info = os.userInfo();
    return { name: info.username, home: info.homedir };
  } catch {
    return { name: process.env.USER ?? process.env.USERNAME ?? 'root', home: os.homedir() };
  }
}

/** Validate and default `ResolveOptions`; bad input is a ConfigError repeating the value. */
export function normalizeResolveOptions(options: ResolveOptions): NormalizedResolveOptions {
  const o = options ?? {};
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) {
    throw new ConfigError(`Expected \`port\` to be an integer from 1 to 65535, got ${describe(o.port)}`);
  }
  if (o.user !== undefined && (typeof o.user !== 'string' || o.user === '')) {
    throw new ConfigError(`Expected \`user\` to be a non-empty string, got ${describe(o.user)}`);
  }
  if (o.configFile !== undefined && (typeof o.configFile !== 'string' || o.configFile === '')) {
    throw new ConfigError(`Expected \`configFile\` to be a path or 'none', got ${describe(o.configFile)}`);
  }
  if (o.addressFamily !== undefined && !['any', 'inet', 'inet6'].includes(o.addressFamily)) {
    throw new ConfigError(
      `Expected \`addressFamily\` to be any, inet or inet6, got ${describe(o.addressFamily)}`,
    );
  }
  for (const pair of o.overrides ?? []) {
    if (
      !Array.isArray(pair) ||
      pair.length !== 2 ||
      typeof pair[0] !== 'string' ||
      typeof pair[1] !== 'string'
    ) {
      throw new ConfigError(
        `Expected \`overrides\` entries to be [key, value] strings, got ${describe(pair)}`,
      );
    }
  }
  for (const f of o.identityFiles ?? []) {
    if (typeof f !== 'string' || f === '') {
      throw new ConfigError(`Expected \`identityFiles\` entries to be paths, got ${describe(f)}`);
    }
  }
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') {
    throw new ConfigError(`Expected \`onWarning\` to be a function, got ${describe(o.onWarning)}`);
  }
  const platform = o.platform ?? process.platform;
  const env = o.env ?? process.env;
  const me = account();
  const homeDir = o.homeDir ?? (platform === 'win32' ? (env.USERPROFILE ?? me.home) : me.home);
  return Object.freeze({
    configFile: o.configFile,
    overrides: o.overrides ?? [],
    commandLine: o.commandLine ?? [],
    port: o.port,
    user: o.user,
    identityFiles: o.identityFiles ?? [],
    addressFamily: o.addressFamily,
    allowMatchExec: o.allowMatchExec ?? false,
    homeDir,
    localUser: o.localUser ?? me.name,
    localHostname: o.localHostname ?? os.hostname(),
    uid: String(o.uid ?? process.getuid?.() ?? -1),
    platform,
    env,
    resolveJumpHosts: o.resolveJumpHosts ?? true,
    onWarning: o.onWarning ?? (() => {}),
    exists: existsSync,
  });
}
