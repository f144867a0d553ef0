import { createRequire } from 'node:module';
import os from 'node:os';
import { nativeCryptoLoaded } from '../connection/native-crypto.js';
import { check, type DoctorCheck } from './types.js';

const require = createRequire(import.meta.url);

/** The facts the machine-level checks read; injected so tests can play another platform. */
export interface SystemFacts {
  /** `process.version`. */
  readonly nodeVersion: string;
  /** `process.platform`. */
  readonly platform: NodeJS.Platform;
  /** `process.arch`. */
  readonly arch: string;
  /** The environment (HOME, USERPROFILE). */
  readonly env: NodeJS.ProcessEnv;
  /** The home directory of the account (passwd on POSIX), where OpenSSH looks for `~/.ssh`. */
  readonly accountHome: string | undefined;
  /** Whether ssh2's native crypto binding is loaded. */
  readonly nativeCrypto: boolean;
}

/** The running process's facts. */
export function currentSystemFacts(env: NodeJS.ProcessEnv = process.env): SystemFacts {
  let accountHome: string | undefined;
  try {
    accountHome = os.userInfo().homedir;
  } catch {
    accountHome = undefined;
  }
  return {
    nodeVersion: process.version,
    platform: process.platform,
    arch: process.arch,
    env,
    accountHome,
    nativeCrypto: nativeCryptoLoaded(),
  };
}

/** `>=20.19` style ranges, as package.json's engines states them. */
function satisfiesMinimum(version: string, range: string): boolean | undefined {
  const want = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  const have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!want || !have) return undefined;
  const w = [Number(want[1]), Number(want[2] ?? 0), Number(want[3] ?? 0)];
  const h = [Number(have[1]), Number(have[2]), Number(have[3])];
  for (let i = 0; i < 3; i++) if (h[i]! !== w[i]!) return h[i]! > w[i]!;
  return true;
}

function enginesNode(): string {
  return (require('../../package.json') as { engines: { node: string } }).engines.node;
}

/** Node against package.json's engines, ssh2's native binding, and where `~/.ssh` is on this platform. */
export function systemChecks(f: SystemFacts): DoctorCheck[] {
  const out: DoctorCheck[] = [];
  const range = enginesNode();
  const fits = satisfiesMinimum(f.nodeVersion, range);
  out.push(
    check({
      section: 'system',
      id: 'node',
      status: fits === false ? 'fail' : 'ok',
      summary: `node ${f.nodeVersion} (${f.platform}-${f.arch}); sshmux needs node ${range}`,
      ...(fits === false && { advice: `install Node.js ${range.replace(/^>=\s*/, '')} or newer` }),
      data: { version: f.nodeVersion, required: range, platform: f.platform, arch: f.arch },
    }),
  );
  const ssh2Version = (require('ssh2/package.json') as { version: string }).version;
  out.push(
    check({
      section: 'system',
      id: 'native-crypto',
      status: f.nativeCrypto ? 'ok' : 'warn',
      summary: f.nativeCrypto
        ? `ssh2 ${ssh2Version}: native crypto binding (sshcrypto.node) loaded`
        : `ssh2 ${ssh2Version}: native crypto binding (sshcrypto.node) NOT loaded: AES-GCM and ChaCha20-Poly1305 run in pure JavaScript, slower`,
      ...(!f.nativeCrypto && {
        advice:
          'rebuild it with its install script: `npm rebuild ssh2` (needs a C compiler and Python; npm 11 runs it only when allowScripts approves ssh2)',
      }),
      data: { ssh2: ssh2Version, loaded: f.nativeCrypto },
    }),
  );
  out.push(homeCheck(f));
  return out;
}

/** OpenSSH reads `~/.ssh` from the account's home (passwd), not $HOME; on Windows from %USERPROFILE%. */
function homeCheck(f: SystemFacts): DoctorCheck {
  if (f.platform === 'win32') {
    const home = f.env.USERPROFILE ?? f.accountHome;
    return check({
      section: 'system',
      id: 'home',
      status: home ? 'ok' : 'fail',
      summary: home
        ? `~/.ssh is ${home}\\.ssh (%USERPROFILE%, as Windows OpenSSH); the agent pipe is \\\\.\\pipe\\openssh-ssh-agent unless SSH_AUTH_SOCK is set`
        : 'no home directory: %USERPROFILE% is not set',
      ...(!home && { advice: 'set USERPROFILE to your profile directory' }),
      data: { home },
    });
  }
  const home = f.accountHome;
  const differs = home !== undefined && f.env.HOME !== undefined && f.env.HOME !== home;
  return check({
    section: 'system',
    id: 'home',
    status: home === undefined ? 'fail' : differs ? 'warn' : 'ok',
    summary:
      home === undefined
        ? 'this account has no passwd entry: no home directory for ~/.ssh'
        : differs
          ? `~/.ssh is ${home}/.ssh (the passwd home, as OpenSSH uses), not $HOME/.ssh (${f.env.HOME}/.ssh)`
          : `~/.ssh is ${home}/.ssh (the passwd home)`,
    ...(home === undefined && { advice: 'run as an account with a passwd entry, or give -F and -i paths' }),
    ...(differs && {
      advice: `OpenSSH ignores $HOME here too; to use ${f.env.HOME}/.ssh, pass -F ${f.env.HOME}/.ssh/config and -i`,
    }),
    data: { home, envHome: f.env.HOME },
  });
}
