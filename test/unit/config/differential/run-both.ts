// Runs one case through the real OpenSSH client and through sshmux's own `ssh` command line
// (runSshCli in-process, so sshmux's argv parsing is what is exercised), from the same directory.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../../../src/cli/context.js';
import { runSshCli } from '../../../../src/cli/ssh.js';
import { silentLogger } from '../../../../src/logger.js';

export const SSH = '/usr/bin/ssh';

/** One differential case: files written into a fresh directory (`@DIR@` replaced by it), then argv. */
export interface DiffCase {
  readonly name: string;
  /** File name → content; `config` is passed as `-F` unless argv has its own `-F`. */
  readonly files?: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
  /** Read the real ~/.ssh/config and /etc/ssh/ssh_config (no `-F`), as both clients do by default. */
  readonly systemFiles?: boolean;
}

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number;
}

export function sshAvailable(): boolean {
  // Under Wine the Linux /usr/bin/ssh is visible (as Z:\usr\bin\ssh) but cannot run.
  return process.platform !== 'win32' && existsSync(SSH);
}

export interface Staged {
  readonly dir: string;
  readonly argv: string[];
  cleanup(): void;
}

export function stage(c: DiffCase): Staged {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-diff-'));
  for (const [name, text] of Object.entries(c.files ?? {})) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text.replaceAll('@DIR@', dir), { mode: 0o644 });
  }
  const argv = c.argv.map((a) => a.replaceAll('@DIR@', dir));
  const hasF = argv.some((a) => a.startsWith('-F'));
  const config = c.files?.config !== undefined ? path.join(dir, 'config') : '/dev/null';
  return {
    dir,
    argv: hasF || c.systemFiles ? argv : ['-F', config, ...argv],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The real ssh, stdin not a terminal (as in the in-process run). */
export function runOpenSsh(s: Staged): Outcome {
  const r = spawnSync(SSH, s.argv, { cwd: s.dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

export async function runSshmux(s: Staged): Promise<Outcome> {
  const collect = () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (d) => chunks.push(String(d)));
    return { stream, text: () => chunks.join('') };
  };
  const out = collect();
  const err = collect();
  const ctx: CliContext = {
    logger: silentLogger(),
    stdout: out.stream,
    stderr: err.stream,
    verbosity: 0,
    logJson: false,
  };
  const cwd = process.cwd();
  process.chdir(s.dir);
  try {
    const status = await runSshCli([...s.argv], ctx, { stdinIsTty: false });
    await new Promise((r) => setImmediate(r));
    return { stdout: out.text(), stderr: err.text(), status };
  } finally {
    process.chdir(cwd);
  }
}
