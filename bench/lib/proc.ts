import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

/** Every child the bench starts, so a failure or Ctrl-C can still stop them all. */
const live = new Set<ChildProcess>();

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the child (SIGKILL) after this many milliseconds. @default 600000 */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout. @default 1 MiB */
  maxOutput?: number;
  stdin?: 'ignore' | 'inherit';
}

/** Start a tracked child process. */
export function startChild(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

/** Run a command to completion, timing it from spawn to exit; never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const maxOutput = options.maxOutput ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = startChild(cmd, args, {
      env: options.env ?? process.env,
      ...(options.cwd && { cwd: options.cwd }),
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < maxOutput) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** Run a shell script (`bash -c`, pipefail) and time it. */
export function sh(script: string, options: RunOptions = {}): Promise<RunResult> {
  return run('bash', ['-o', 'pipefail', '-c', script], options);
}

/** Like `sh`, but throw with stderr when the script fails. */
export async function shOk(script: string, options: RunOptions = {}): Promise<RunResult> {
  const r = await sh(script, options);
  if (r.code !== 0) throw new Error(`failed (${r.code ?? r.signal}): ${script}\n${r.stderr.slice(-2000)}`);
  return r;
}

/** Kill every child still running (SIGKILL): the last line of defence on failure. */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** Shell-quote one word for bash. */
export function q(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
