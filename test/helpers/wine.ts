import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliResult } from './cli.js';
import { ROOT } from './cli.js';
import type { StartedSshd } from './sshd.js';

// The Windows tier: the built CLI run by Windows node.exe under Wine, against the container sshd.
//
// Wine cannot give node.exe a Unix pipe or socket as stdin/stdout/stderr (EBADF), so `run`
// feeds stdin from a file and collects stdout/stderr in files, waiting for the process to exit
// (not for EOF: a detached daemon may keep a handle). Callers that need live pipes (git) go
// through `wine-git-ssh.mjs` + `wine-stdio-bridge.mjs`: the Linux half listens on a loopback TCP
// port, the Windows half (a node.exe script) connects to it and runs the CLI with real Windows
// pipes, relaying stdin/stdout, stderr and the exit status over three connections.

/** Where scripts/setup-windows.sh put Wine's prefix and node.exe (or the env's SSHMUX_WIN_*). */
export interface WineSetup {
  readonly nodeExe: string;
  readonly prefix: string;
}

const SETUP_DIR = '/var/cache/sshmux-windows';
/** `--import` hook that gives node.exe the sandbox's profile variables (see wine-profile.mjs). */
const PROFILE_HOOK = `file:///${winPath(path.join(ROOT, 'test', 'helpers', 'wine-profile.mjs'))}`;

/** The tier's Wine and node.exe; throws naming the setup script when they are missing. */
export function wineSetup(): WineSetup {
  const nodeExe = process.env.SSHMUX_WIN_NODE_EXE ?? path.join(SETUP_DIR, 'node-20', 'bin', 'node.exe');
  const prefix = process.env.SSHMUX_WIN_WINEPREFIX ?? path.join(SETUP_DIR, 'prefix');
  const missing = [nodeExe, prefix].filter((p) => !existsSync(p));
  try {
    execFileSync('wine', ['--version'], { stdio: 'ignore' });
  } catch {
    missing.push('wine');
  }
  if (missing.length > 0) {
    throw new Error(
      `the Windows tier needs ${missing.join(', ')}: run \`sudo bash scripts/setup-windows.sh\``,
    );
  }
  return { nodeExe, prefix };
}

/** A Linux path as Windows programs under Wine see it (`/tmp/x` → `Z:/tmp/x`, the prefix's drive_c → `C:/`). */
export function winPath(p: string): string {
  const full = path.resolve(p);
  const driveC = `${path.join(process.env.SSHMUX_WIN_WINEPREFIX ?? path.join(SETUP_DIR, 'prefix'), 'drive_c')}/`;
  return full.startsWith(driveC) ? `C:/${full.slice(driveC.length)}` : `Z:${full}`;
}

/** The same with backslashes, as Windows itself spells paths in the environment. */
export function winPathBackslash(p: string): string {
  return winPath(p).replaceAll('/', '\\');
}

/** The environment Wine needs, on top of whatever the caller passes through. */
export function wineEnv(setup: WineSetup, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, WINEPREFIX: setup.prefix, WINEDEBUG: '-all' };
}

export interface WineRunOptions {
  env: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Linux directory the process starts in (Wine maps it to Z:). */
  cwd?: string;
  /** @default 90000 */
  timeoutMs?: number;
}

/** A node.exe process under Wine that the caller waits for (or kills) later. */
export interface StartedWineNode {
  /** Resolves when the process exits (not at end of output: a detached child may keep a handle). */
  readonly done: Promise<CliResult>;
  kill(): void;
}

/** Start `node.exe argv…` under Wine with file-backed stdio, without waiting for it. */
export function startWineNode(setup: WineSetup, argv: string[], options: WineRunOptions): StartedWineNode {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sshmux-wine-io-'));
  const files = ['stdin', 'stdout', 'stderr'].map((n) => path.join(scratch, n)) as [string, string, string];
  writeFileSync(files[0], options.input ?? '');
  const fds = [openSync(files[0], 'r'), openSync(files[1], 'w'), openSync(files[2], 'w')];
  const child = spawn('wine', [setup.nodeExe, ...argv], {
    env: wineEnv(setup, options.env),
    stdio: fds,
    ...(options.cwd !== undefined && { cwd: options.cwd }),
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      for (const fd of fds) closeSync(fd);
      settle();
      rmSync(scratch, { recursive: true, force: true });
    };
    child.on('error', (err) => finish(() => reject(err)));
    child.on('exit', (code, signal) =>
      finish(() =>
        resolve({ code, signal, stdout: readFileSync(files[1]), stderr: readFileSync(files[2], 'utf8') }),
      ),
    );
  });
  return { done, kill: () => child.kill('SIGKILL') };
}

/** Run `node.exe argv…` under Wine with file-backed stdio; resolves when the process exits. */
export function runWineNode(setup: WineSetup, argv: string[], options: WineRunOptions): Promise<CliResult> {
  return startWineNode(setup, argv, options).done;
}

/** Linux pids of Wine processes whose command line contains `needle` (a sandbox's unique dir). */
export function winePids(needle: string): number[] {
  try {
    const out = execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

/**
 * One test's Windows user: its own LOCALAPPDATA (so its own daemon and pipe name) and profile,
 * no agent, and nothing of this machine's XDG_RUNTIME_DIR unless a test puts it back.
 */
export class WineSandbox {
  readonly setup: WineSetup;
  readonly sshd: StartedSshd;
  /**
   * Linux directory holding everything of this sandbox: on the prefix's drive C:, as a
   * Windows profile is, so the daemon (which runs in it) is on another drive than the tests'
   * files (Z:) and drive-relative paths mean different files there.
   */
  readonly root: string;
  readonly localAppData: string;
  readonly profile: string;

  constructor(setup: WineSetup, sshd: StartedSshd) {
    this.setup = setup;
    this.sshd = sshd;
    const users = path.join(setup.prefix, 'drive_c', 'sshmux-tests');
    mkdirSync(users, { recursive: true });
    this.root = mkdtempSync(path.join(users, 'u-'));
    this.localAppData = path.join(this.root, 'appdata');
    this.profile = path.join(this.root, 'profile');
    mkdirSync(this.localAppData);
    mkdirSync(this.profile);
  }

  /** The built CLI as node.exe is given it. */
  get cli(): string {
    return winPath(path.join(ROOT, 'dist', 'cli', 'sshmux.cjs'));
  }

  /** The daemon's directory as Windows names it (`%LOCALAPPDATA%\sshmux`). */
  get daemonDir(): string {
    return path.join(this.localAppData, 'sshmux');
  }

  /** The Linux environment for Wine; the profile variables travel through wine-profile.mjs. */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SSHMUX_WINE_PROFILE_LOCALAPPDATA: winPathBackslash(this.localAppData),
      SSHMUX_WINE_PROFILE_USERPROFILE: winPathBackslash(this.profile),
      SSH_AUTH_SOCK: '',
    };
    for (const name of ['XDG_RUNTIME_DIR', 'SSHMUX_NO_DAEMON', 'SSHMUX_RUNTIME_DIR', 'SSHMUX_PERSIST']) {
      delete env[name];
    }
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  /** `sshmux ssh` options that reach the container as `user`, with Windows paths. */
  sshArgs(user = 'root'): string[] {
    return [
      '-i',
      winPath(this.sshd.keyPath),
      '-o',
      `UserKnownHostsFile=${winPath(this.sshd.knownHostsFile)}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-p',
      String(this.sshd.port),
      `${user}@${this.sshd.host}`,
    ];
  }

  /** `node.exe main.js args…` */
  cliRun(
    args: string[],
    options: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {},
  ): Promise<CliResult> {
    return runWineNode(this.setup, ['--import', PROFILE_HOOK, this.cli, ...args], {
      env: this.env(options.env),
      ...(options.input !== undefined && { input: options.input }),
      ...(options.cwd !== undefined && { cwd: options.cwd }),
    });
  }

  /** `sshmux ssh args…` */
  ssh(
    args: string[],
    options: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {},
  ): Promise<CliResult> {
    return this.cliRun(['ssh', ...args], options);
  }

  /** Run a remote command as root. */
  remote(command: string, options: { env?: Record<string, string | undefined>; input?: string } = {}) {
    return this.ssh([...this.sshArgs(), command], options);
  }

  /** Daemons of this sandbox (their command line carries its unique directory). */
  daemonPids(): number[] {
    return winePids(`daemon.js --runtime-dir .*sshmux-tests.${path.basename(this.root)}`);
  }

  async waitForDaemons(count: number, timeoutMs = 15_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = this.daemonPids();
      if (pids.length === count || Date.now() > deadline) return pids;
      await sleep(100);
    }
  }

  /** A GIT_SSH_COMMAND that runs this sandbox's CLI under Wine through the pipe relay. */
  gitSshCommand(): string {
    const relay = path.join(ROOT, 'test', 'helpers', 'wine-git-ssh.mjs');
    return [
      process.execPath,
      relay,
      '-i',
      winPath(this.sshd.keyPath),
      '-o',
      `UserKnownHostsFile=${winPath(this.sshd.knownHostsFile)}`,
      '-o',
      'BatchMode=yes',
    ].join(' ');
  }

  /** What the relay needs beside the sandbox's own environment. */
  gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...this.env(extra),
      SSHMUX_WIN_NODE_EXE: this.setup.nodeExe,
      SSHMUX_WIN_WINEPREFIX: this.setup.prefix,
      SSHMUX_WIN_CLI: this.cli,
      SSHMUX_WIN_BRIDGE: winPath(path.join(ROOT, 'test', 'helpers', 'wine-stdio-bridge.mjs')),
      GIT_SSH_COMMAND: this.gitSshCommand(),
      GIT_SSH_VARIANT: 'ssh',
    };
  }

  /**
   * Kill whatever of this sandbox still runs (its daemons: their command line names its
   * directory), then remove its files. By pid, not `-O exit`: one more Wine start per test
   * costs seconds on a loaded machine, and the tests that need `-O exit` run it themselves.
   */
  async cleanup(): Promise<void> {
    for (const pid of winePids(`sshmux-tests.${path.basename(this.root)}`)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.waitForDaemons(0, 5_000);
    rmSync(this.root, { recursive: true, force: true });
  }
}
