import { type ChildProcess, spawn } from 'node:child_process';
import { pipeline } from 'node:stream/promises';
import { LocalError } from '../errors.js';
import { type BtrfsHost, type HostProcess, type HostRun, type SpawnOptions, StderrTail } from './host.js';
import { StreamHash } from './stream-digest.js';

function exitOf(
  child: ChildProcess,
  tail: StderrTail,
): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      tail.add(`${child.spawnfile}: ${err.message}\n`);
      resolve({ code: err.code === 'ENOENT' ? 127 : 126, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal: signal?.replace(/^SIG/, '') ?? null }));
  });
}

/** SIGTERM to the stage's whole process group (a digest stage's tee and sha256sum too). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

/** This machine: commands are child processes, never a shell. */
export class LocalHost implements BtrfsHost {
  readonly label = 'local';
  readonly destination = undefined;

  async run(argv: readonly string[], options: { signal?: AbortSignal } = {}): Promise<HostRun> {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal && { signal: options.signal }),
    });
    const tail = new StderrTail();
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.on('data', (d: Buffer) => tail.add(d));
    const { code, signal } = await exitOf(child, tail);
    if (options.signal?.aborted)
      throw new LocalError(`aborted: ${argv.join(' ')}`, { cause: options.signal.reason });
    return { code, signal, stdout, stderr: tail.toString() };
  }

  async spawn(stages: readonly (readonly string[])[], options: SpawnOptions = {}): Promise<HostProcess> {
    const tail = new StderrTail();
    const children = stages.map((argv) => {
      // Each stage in a session of its own: the terminal's SIGTSTP/SIGCONT/SIGWINCH/SIGINT go to
      // the foreground process group, and a btrfs send interrupted by one can exit 0 with a
      // corrupt stream (btrfs-progs#1063). This process alone decides when a stage ends.
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      child.stderr!.on('data', (d: Buffer) => tail.add(d));
      return child;
    });
    const exits = children.map((c) => exitOf(c, tail));
    // Link stage i's stdout to stage i+1's stdin; a failing stage shows in its exit status.
    for (let i = 0; i + 1 < children.length; i++) {
      pipeline(children[i]!.stdout!, children[i + 1]!.stdin!).catch(() => undefined);
    }
    // The bytes btrfs send wrote (first stage's stdout) or btrfs receive read (the stdout of the
    // stage before it), hashed here with OpenSSL: no tee, no 8 KiB copies through another process.
    // A single receiving stage's input is what the caller writes: it digests that itself.
    const watched =
      options.digest === 'output'
        ? children[0]!.stdout!
        : options.digest === 'input' && children.length > 1
          ? children.at(-2)!.stdout!
          : undefined;
    const hash = watched && new StreamHash().watch(watched);
    const exited = Promise.all(exits).then(
      (all) => all.find((e) => e.code !== 0) ?? { code: 0, signal: null },
    );
    return {
      stdin: children[0]!.stdin!,
      stdout: children.at(-1)!.stdout!,
      exited,
      stderr: () => tail.toString(),
      ...(hash && { digest: () => hash.hex }),
      kill: () => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c);
      },
    };
  }
}
