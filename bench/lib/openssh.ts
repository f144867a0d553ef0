import path from 'node:path';
import type { Endpoint } from './endpoint.js';
import { type RunResult, run } from './proc.js';

export const SSH = '/usr/bin/ssh';
export const USER = 'backup';

/** The OpenSSH client side (towards `sshd`: the container, or the link emulator in front of it): Debian's /usr/bin/ssh with no config, the harness key, strict host keys. */
export class OpenSsh {
  readonly #sshd: Endpoint;
  readonly #tmp: string;
  #masters = 0;
  readonly #open = new Set<ControlMaster>();

  constructor(sshd: Endpoint, tmp: string) {
    this.#sshd = sshd;
    this.#tmp = tmp;
  }

  get target(): string {
    return `${USER}@${this.#sshd.host}`;
  }

  /** Options every invocation gets (before the destination). */
  options(cipher: string): string[] {
    const s = this.#sshd;
    return [
      '-F',
      '/dev/null',
      '-i',
      s.keyPath,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${s.knownHostsFile}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-c',
      cipher,
      '-p',
      String(s.port),
    ];
  }

  /** argv for a fresh `ssh host command…`. */
  argv(cipher: string, command: readonly string[]): string[] {
    return [...this.options(cipher), this.target, ...command];
  }

  /** The same as one shell string (for pipelines and GIT_SSH_COMMAND); paths here have no spaces. */
  commandLine(cipher: string): string {
    return [SSH, ...this.options(cipher)].join(' ');
  }

  /** Fresh connection: `ssh host command…`. */
  exec(cipher: string, command: readonly string[]): Promise<RunResult> {
    return run(SSH, this.argv(cipher, command), { timeoutMs: 120_000 });
  }

  /** Start a ControlMaster (`-fN`, ControlPersist) and return its handle; stopped by `closeAll()` too. */
  async startMaster(cipher: string): Promise<ControlMaster> {
    const socket = path.join(this.#tmp, `cm${++this.#masters}`);
    const r = await run(SSH, [
      ...this.options(cipher),
      '-o',
      'ControlMaster=yes',
      '-o',
      `ControlPath=${socket}`,
      '-o',
      'ControlPersist=yes',
      '-fN',
      this.target,
    ]);
    if (r.code !== 0) throw new Error(`ControlMaster did not start (${r.code}): ${r.stderr}`);
    const master = new ControlMaster(this, socket, cipher, () => this.#open.delete(master));
    this.#open.add(master);
    return master;
  }

  async closeAll(): Promise<void> {
    for (const m of [...this.#open]) await m.close();
  }
}

/** A running OpenSSH ControlMaster; clients use `-S socket`. */
export class ControlMaster implements AsyncDisposable {
  readonly socket: string;
  readonly #ssh: OpenSsh;
  readonly #cipher: string;
  readonly #onClose: () => void;
  #closed = false;

  constructor(ssh: OpenSsh, socket: string, cipher: string, onClose: () => void) {
    this.#ssh = ssh;
    this.socket = socket;
    this.#cipher = cipher;
    this.#onClose = onClose;
  }

  /** argv for a multiplexed client: `ssh -S socket host command…`. */
  argv(command: readonly string[]): string[] {
    return [...this.#ssh.options(this.#cipher), '-S', this.socket, this.#ssh.target, ...command];
  }

  /** The client as a shell command prefix (for GIT_SSH_COMMAND). */
  commandLine(): string {
    return [SSH, ...this.#ssh.options(this.#cipher), '-S', this.socket].join(' ');
  }

  exec(command: readonly string[]): Promise<RunResult> {
    return run(SSH, this.argv(command), { timeoutMs: 120_000 });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    await run(SSH, ['-S', this.socket, '-O', 'exit', this.#ssh.target], { timeoutMs: 10_000 });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
