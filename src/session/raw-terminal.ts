import { onDeathBySignal } from '../death-hooks.js';

/** The part of a tty stream (`process.stdin`) the terminal needs. */
export interface RawModeInput {
  /** Whether the input is a terminal (raw mode is only entered then). */
  readonly isTTY?: boolean;
  /** Turn raw mode on or off. */
  setRawMode(mode: boolean): unknown;
}

/** Where the terminal registers its last-chance restore (the process, by default). */
export interface RestoreHooks {
  /** Run at process exit, including after an uncaught exception or an unhandled rejection. */
  onExit(hook: () => void): () => void;
  /** Run just before the process dies of a signal ('exit' listeners do not run then). */
  onDeathBySignal(hook: () => void): () => void;
  /** Whether this platform has job control (SIGTSTP): not Windows. */
  readonly canSuspend: boolean;
  /** Stop this process as the terminal's suspend key would; returns once it was continued. */
  suspendSelf(): void;
}

export const processRestoreHooks: RestoreHooks = {
  onExit(hook) {
    process.on('exit', hook);
    return () => process.off('exit', hook);
  },
  onDeathBySignal,
  canSuspend: process.platform !== 'win32',
  suspendSelf() {
    // The default action of SIGTSTP stops the whole process before kill() returns to us.
    process.kill(process.pid, 'SIGTSTP');
  },
};

/**
 * The local terminal in raw mode for a pty session, as ssh's enter_raw_mode/leave_raw_mode:
 * raw only while a session runs, and put back on every way out — a normal end, a signal, a
 * crash, process exit — and around a suspend (`~^Z`). Node restores the exact modes it found.
 */
export class RawTerminal {
  readonly #input: RawModeInput;
  readonly #hooks: RestoreHooks;
  #raw = false;
  #unhook: (() => void)[] = [];

  constructor(input: RawModeInput, hooks: RestoreHooks = processRestoreHooks) {
    this.#input = input;
    this.#hooks = hooks;
  }

  /** Whether raw mode is on now. */
  get isRaw(): boolean {
    return this.#raw;
  }

  /** Whether `~^Z` can suspend this process (not on Windows). */
  get canSuspend(): boolean {
    return this.#hooks.canSuspend;
  }

  /** Enter raw mode; restored on every way out of the process. */
  enter(): void {
    if (this.#raw || this.#input.isTTY !== true) return;
    if (this.#unhook.length === 0) {
      const restore = (): void => this.leave();
      this.#unhook = [this.#hooks.onExit(restore), this.#hooks.onDeathBySignal(restore)];
    }
    this.#input.setRawMode(true);
    this.#raw = true;
  }

  /** Leave raw mode (idempotent). */
  leave(): void {
    if (!this.#raw) return;
    this.#raw = false;
    try {
      this.#input.setRawMode(false);
    } catch {
      // The terminal went away (hang-up): there is nothing left to restore.
    }
  }

  /** `~^Z`: the terminal as it was, stop until continued (`fg`), then raw again. */
  suspend(): void {
    const wasRaw = this.#raw;
    this.leave();
    this.#hooks.suspendSelf();
    if (wasRaw) this.enter();
  }

  /** Leave raw mode and drop the process hooks: the session is over. */
  dispose(): void {
    this.leave();
    for (const unhook of this.#unhook.splice(0)) unhook();
  }
}
