import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { HostConfig } from '../config/host-config.js';
import { ConfigError, HostKeyError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type KnownHostsEntry, parseKnownHosts } from './known-hosts.js';

/** KnownHostsCommand as configured, with the client tokens of its host (set by the resolver). */
export type KnownHostsCommandSpec = NonNullable<HostConfig['knownHostsCommand']>;

/**
 * What one run is about: sshconnect2.c runs it once to order host key algorithms (`ORDER`, no
 * key yet), sshconnect.c for the host name and, under CheckHostIP, for the address.
 */
export interface KnownHostsQuery {
  readonly invocation: 'ORDER' | 'HOSTNAME' | 'ADDRESS';
  /** `%H`: the known_hosts name looked up (`host`, `[host]:port`, an address, or HostKeyAlias). */
  readonly hostfileName: string;
  /** `%t`: the key's SSH name (`ssh-ed25519`); `NONE` before a key is known. */
  readonly keyType?: string;
  /** `%f`: `SHA256:…`. */
  readonly fingerprint?: string;
  /** `%K`: the key blob. */
  readonly key?: Buffer;
}

/** misc.c argv_split: blanks separate; '…' and "…" quote; `\` escapes a quote, `\` or (unquoted) a blank. */
export function splitCommandLine(line: string): string[] | undefined {
  const argv: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    let arg = '';
    let quote = '';
    for (; i < line.length; i++) {
      const c = line[i]!;
      const next = line[i + 1];
      if (c === '\\' && (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' '))) {
        arg += next;
        i++;
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else arg += c;
    }
    if (quote !== '') return undefined;
    argv.push(arg);
  }
  return argv;
}

/** percent_dollar_expand: `${VAR}` and `%x` in one pass; an unknown token or unset variable fails. */
function expandArg(arg: string, tokens: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): string {
  let out = '';
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i]!;
    if (c === '$' && arg[i + 1] === '{') {
      const end = arg.indexOf('}', i + 2);
      const name = end === -1 ? '' : arg.slice(i + 2, end);
      const value = env[name];
      if (end === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || value === undefined) {
        throw new ConfigError(
          `KnownHostsCommand: cannot expand \`${arg}\` (environment variable \`${name}\`)`,
        );
      }
      out += value;
      i = end;
    } else if (c === '%') {
      const key = arg[++i];
      if (key === '%') out += '%';
      else if (key !== undefined && Object.hasOwn(tokens, key)) out += tokens[key];
      else throw new ConfigError(`KnownHostsCommand: unknown token \`%${key ?? ''}\` in \`${arg}\``);
    } else out += c;
  }
  return out;
}

/**
 * Run KnownHostsCommand as sshconnect.c load_hostkeys_command does and return its stdout as
 * known_hosts lines (read-only, never written to). The command is split like argv (no shell);
 * arguments after the first get the client tokens plus `%H %I %t %f %K` and `${VAR}`; it runs
 * with our environment, stdin from /dev/null and our stderr. A program that is not an absolute
 * path or cannot be found contributes no lines (ssh logs an error and goes on); one that runs
 * and does not exit 0 fails the connection ("KnownHostsCommand failed"), as in ssh.
 */
export async function runKnownHostsCommand(
  spec: KnownHostsCommandSpec,
  query: KnownHostsQuery,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KnownHostsEntry[]> {
  const tag = `KnownHostsCommand-${query.invocation}`;
  const argv = splitCommandLine(spec.command);
  if (argv === undefined) {
    log.error(`${tag} "${spec.command}" contains invalid quotes`);
    return [];
  }
  if (argv.length === 0) {
    log.error(`${tag} "${spec.command}" yielded no arguments`);
    return [];
  }
  const tokens = {
    ...spec.tokens,
    H: query.hostfileName,
    I: query.invocation,
    t: query.keyType ?? 'NONE',
    f: query.fingerprint ?? 'NONE',
    K: query.key?.toString('base64') ?? 'NONE',
  };
  const [program, ...rest] = argv as [string, ...string[]];
  const args = rest.map((a) => expandArg(a, tokens, env));
  if (!path.isAbsolute(program)) {
    log.error(`${tag} path is not absolute`);
    return [];
  }
  try {
    await stat(program);
  } catch (err) {
    log.error(`Could not stat ${tag} "${program}": ${(err as Error).message}`);
    return [];
  }
  const command = [program, ...args].join(' ');
  const { code, signal, stdout } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
  }>((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
    });
    child.once('error', reject);
    child.once('close', (c, s) => resolve({ code: c, signal: s, stdout: out }));
  }).catch((err: unknown) => {
    throw new HostKeyError(`KnownHostsCommand failed: cannot run \`${command}\`: ${(err as Error).message}`, {
      cause: err,
    });
  });
  if (code !== 0) {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    throw new HostKeyError(`KnownHostsCommand failed: \`${command}\` ${how}`);
  }
  return parseKnownHosts(stdout, tag);
}
