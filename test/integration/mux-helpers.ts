import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedSshd } from '../helpers/sshd.js';

/** The built CLI the integration tests drive, as git would. */
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli/sshmux.cjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** A private runtime dir per test file, so tests never share a daemon. */
export class MuxSandbox {
  readonly runtimeDir: string;
  readonly home: string;
  readonly sshd: StartedSshd;

  constructor(sshd: StartedSshd) {
    this.sshd = sshd;
    this.runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-mux-it-'));
    this.home = path.join(this.runtimeDir, 'home');
    mkdirSync(this.home, { mode: 0o700 });
  }

  get cliPath(): string {
    return CLI;
  }

  /** The daemon's directory under XDG_RUNTIME_DIR. */
  get daemonDir(): string {
    return path.join(this.runtimeDir, 'sshmux');
  }

  get socketPath(): string {
    return path.join(this.daemonDir, 'mux.sock');
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    // An empty HOME and no agent: nothing of this machine's ~/.ssh leaks into the tests.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_RUNTIME_DIR: this.runtimeDir,
      HOME: this.home,
      SSH_AUTH_SOCK: '',
    };
    delete env.SSHMUX_NO_DAEMON;
    delete env.SSHMUX_RUNTIME_DIR;
    delete env.SSHMUX_PERSIST;
    return { ...env, ...extra };
  }

  /** `sshmux ssh` options that reach the container as `user`. */
  sshArgs(user = 'root'): string[] {
    return [
      '-i',
      this.sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${this.sshd.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-p',
      String(this.sshd.port),
      `${user}@${this.sshd.host}`,
    ];
  }

  /** The GIT_SSH_COMMAND for this sandbox. */
  gitSshCommand(): string {
    return [
      process.execPath,
      CLI,
      'ssh',
      '-i',
      this.sshd.keyPath,
      '-o',
      `UserKnownHostsFile=${this.sshd.knownHostsFile}`,
    ].join(' ');
  }

  run(
    args: string[],
    options: {
      input?: Buffer | string;
      env?: Record<string, string>;
      stdin?: 'pipe' | 'ignore' | 'inherit';
    } = {},
  ): Promise<CliResult> {
    return runCli(['ssh', ...args], {
      env: this.env(options.env),
      input: options.input,
      stdin: options.stdin,
    });
  }

  /** Run a remote command as root through the front. */
  remote(command: string, options: { input?: Buffer | string; env?: Record<string, string> } = {}) {
    return this.run([...this.sshArgs(), command], options);
  }

  /** Pids of daemons serving this sandbox (found by their unique --runtime-dir argument). */
  daemonPids(): number[] {
    try {
      const out = execFileSync('pgrep', ['-f', `daemon.js --runtime-dir ${this.daemonDir}`], {
        encoding: 'utf8',
      });
      return out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number)
        .filter((pid) => pid !== process.pid);
    } catch {
      return [];
    }
  }

  async waitForDaemons(count: number, timeoutMs = 10_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = this.daemonPids();
      if (pids.length === count || Date.now() > deadline) return pids;
      await sleep(100);
    }
  }

  /** Stop the daemon (`-O exit`), then kill anything left by pid, and remove the dir. */
  async cleanup(): Promise<void> {
    await this.run(['-O', 'exit', 'x']).catch(() => undefined);
    for (const pid of this.daemonPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.runtimeDir, { recursive: true, force: true });
  }
}

export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    input?: Buffer | string | undefined;
    stdin?: 'pipe' | 'ignore' | 'inherit' | undefined;
    wrap?: string[];
  } = {},
): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Start the CLI and keep a handle on the process (to signal it). */
export function startCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    input?: Buffer | string | undefined;
    stdin?: 'pipe' | 'ignore' | 'inherit' | undefined;
    wrap?: string[];
  } = {},
): { child: ChildProcess; result: Promise<CliResult> } {
  const argv = [...(options.wrap ?? []), process.execPath, CLI, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: options.env ?? process.env,
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
    if (child.stdin) {
      child.stdin.on('error', () => {});
      if (options.input !== undefined) child.stdin.end(options.input);
      else child.stdin.end();
    }
  });
  return { child, result };
}

/** The same command through the real OpenSSH client, for parity checks. */
export function openssh(sshd: StartedSshd, command: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ssh',
      [
        '-i',
        sshd.keyPath,
        '-o',
        `UserKnownHostsFile=${sshd.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-p',
        String(sshd.port),
        `root@${sshd.host}`,
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}
