import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { OpenSsh } from './openssh.js';
import { type RunResult, run } from './proc.js';
import { CLI } from './sshmux.js';

/**
 * `node dist/cli/sshmux.cjs ssh …` (the `sshmux` binary) with the very options the OpenSSH side gets, and a runtime
 * directory of its own so the bench's daemon is neither a developer's nor another run's.
 */
export class SshmuxCli {
  readonly runtimeDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly #openssh: OpenSsh;

  constructor(openssh: OpenSsh, tmp: string, name = 'rt') {
    this.#openssh = openssh;
    this.runtimeDir = path.join(tmp, name);
    mkdirSync(this.runtimeDir, { recursive: true, mode: 0o700 });
    // Without NODE_EXTRA_CA_CERTS, as on a user's machine: this VM sets it (its TLS proxy's CA
    // bundle), and Node then parses every certificate in it at start-up, ~70-100 ms of CPU per
    // `node` process before any sshmux code runs (bench/README.md, "CLI per invocation").
    const { NODE_EXTRA_CA_CERTS: _caCerts, ...env } = process.env;
    this.env = { ...env, SSHMUX_RUNTIME_DIR: this.runtimeDir };
  }

  argv(cipher: string, command: readonly string[]): string[] {
    return [CLI, 'ssh', ...this.#openssh.options(cipher), this.#openssh.target, ...command];
  }

  /** As a shell command prefix (GIT_SSH_COMMAND); needs `env` for the runtime directory. */
  commandLine(cipher: string): string {
    return [process.execPath, CLI, 'ssh', ...this.#openssh.options(cipher)].join(' ');
  }

  exec(cipher: string, command: readonly string[]): Promise<RunResult> {
    return run(process.execPath, this.argv(cipher, command), { env: this.env, timeoutMs: 120_000 });
  }

  /** The daemon's pid when one answers `-O check`, else undefined. */
  async daemonPid(): Promise<number | undefined> {
    const r = await run(process.execPath, [CLI, 'ssh', '-O', 'check', this.#openssh.target], {
      env: this.env,
      timeoutMs: 20_000,
    });
    const m = /pid=(\d+)/.exec(r.stderr);
    return r.code === 0 && m ? Number(m[1]) : undefined;
  }

  /** Ask the daemon to exit; kill it by pid if it is still there after 3 s. */
  async stop(): Promise<void> {
    const pid = await this.daemonPid().catch(() => undefined);
    if (pid === undefined) return;
    await run(process.execPath, [CLI, 'ssh', '-O', 'exit', this.#openssh.target], {
      env: this.env,
      timeoutMs: 20_000,
    });
    for (let i = 0; i < 30; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
