import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import { onDeathBySignal } from '../death-hooks.js';
import { NetworkError } from '../errors.js';

/** After SIGHUP, a proxy that is still alive this long later gets SIGKILL: nothing is left behind. */
const KILL_GRACE_MS = 1_000;
/** A proxy that closed its stdout is given this long to exit, so its status can explain the close. */
const EXIT_WAIT_MS = 200;

/**
 * Proxies still running: one `exit` listener and one death-by-signal hook end them all (a
 * listener each would trip MaxListeners).
 */
const live = new Set<() => void>();
let exitHooked = false;
function killOnExit(kill: () => void): () => void {
  if (!exitHooked) {
    exitHooked = true;
    const killAll = (): void => {
      for (const k of live) k();
    };
    process.on('exit', killAll);
    onDeathBySignal(killAll);
  }
  live.add(kill);
  return () => live.delete(kill);
}

/**
 * The SSH transport over a ProxyCommand child: what we write goes to its stdin, what it prints
 * on stdout is what we read. Destroying the stream ends the child (SIGHUP, as ssh does in
 * ssh_kill_proxy_command, then SIGKILL if it ignores that), and so does our own process exit.
 */
export class ProxyStream extends Duplex {
  readonly #child: ChildProcess;
  readonly #command: string;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  readonly #forget: () => void;

  constructor(child: ChildProcess, command: string) {
    super({ allowHalfOpen: false });
    this.#child = child;
    this.#command = command;
    const { stdin, stdout } = child;
    if (!stdin || !stdout) throw new Error('ProxyStream needs a child with piped stdin and stdout');
    this.#forget = killOnExit(() => this.#kill('SIGHUP'));
    child.once('exit', (code, signal) => {
      this.#exit = { code, signal };
      clearTimeout(this.#killTimer);
      this.#forget();
    });
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.once('end', () => {
      if (this.#exit) this.push(null);
      else {
        const timer = setTimeout(() => this.push(null), EXIT_WAIT_MS);
        child.once('exit', () => {
          clearTimeout(timer);
          this.push(null);
        });
      }
    });
    stdout.on('error', (err) => this.destroy(err));
    // EPIPE once the proxy has gone: the read side's EOF (and the exit status) says why.
    stdin.on('error', () => {});
  }

  /** The proxy's process id (undefined if it never started). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Why the transport ended, when the proxy exited on its own: ssh reports only "Connection
   * closed by remote host"; we name the command and its status.
   */
  closeReason(destination: string): NetworkError | undefined {
    const exit = this.#exit;
    if (!exit) return undefined;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
    return new NetworkError(
      `ProxyCommand \`${this.#command}\` ${how} before the SSH connection was established (connection closed by remote host)`,
      { destination, code: 'SSHMUX_ERR_PROXY_COMMAND' },
    );
  }

  override _read(): void {
    this.#child.stdout?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const stdin = this.#child.stdin;
    if (!stdin || stdin.destroyed || this.#exit) {
      cb(
        new NetworkError(`ProxyCommand \`${this.#command}\` is no longer reading`, {
          code: 'SSHMUX_ERR_PROXY_COMMAND',
        }),
      );
      return;
    }
    stdin.write(chunk, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#child.stdin?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#child.stdin?.destroy();
    this.#child.stdout?.destroy();
    this.#kill('SIGHUP');
    cb(err);
  }

  /** An idle pooled connection must not keep the process alive (Connection.unrefIfIdle). */
  ref(): this {
    this.#child.ref();
    for (const s of [this.#child.stdin, this.#child.stdout, this.#child.stderr])
      (s as { ref?: () => void } | null)?.ref?.();
    return this;
  }

  unref(): this {
    this.#child.unref();
    for (const s of [this.#child.stdin, this.#child.stdout, this.#child.stderr])
      (s as { unref?: () => void } | null)?.unref?.();
    return this;
  }

  #kill(signal: NodeJS.Signals): void {
    if (this.#exit || this.#child.pid === undefined) return;
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
    if (signal === 'SIGHUP' && this.#killTimer === undefined) {
      this.#killTimer = setTimeout(() => this.#kill('SIGKILL'), KILL_GRACE_MS);
    }
  }
}
