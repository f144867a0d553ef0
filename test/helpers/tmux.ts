import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Poll `probe` until it returns something, or fail after `ms` with `what` and the last screen. */
async function until<T>(
  what: string,
  ms: number,
  probe: () => T | undefined,
  screen: () => string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the pane shows:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One tmux server of its own (`tmux -L <unique>`) with one window running a plain local bash
 * (prompt `LOCAL$ `): a real terminal that a test types into and reads back.
 */
export class TmuxTerminal {
  readonly socket = `sshmux-it-${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(env: NodeJS.ProcessEnv, size: { cols: number; rows: number } = { cols: 100, rows: 30 }) {
    const vars = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    this.#tmux(
      'new-session',
      '-d',
      '-x',
      String(size.cols),
      '-y',
      String(size.rows),
      'env',
      '-i',
      ...vars,
      'PS1=LOCAL$ ',
      'bash',
      '--norc',
      '--noprofile',
      '-i',
    );
    // tmux would otherwise size the window after the (absent) client's terminal.
    this.#tmux('set-option', '-g', 'window-size', 'manual');
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Type `text` literally, then Enter unless `enter` is false. */
  type(text: string, enter = true): void {
    if (text !== '') this.#tmux('send-keys', '-l', text);
    if (enter) this.#tmux('send-keys', 'Enter');
  }

  /** Press keys by tmux's names (`C-z`, `Enter`). */
  keys(...names: string[]): void {
    this.#tmux('send-keys', ...names);
  }

  screen(): string {
    return this.#tmux('capture-pane', '-p', '-J');
  }

  /** Clear the pane's screen and history, so that waits see only new output. */
  clear(): void {
    this.#tmux('send-keys', '-R');
    this.#tmux('clear-history');
  }

  resize(cols: number, rows: number): void {
    this.#tmux('resize-window', '-x', String(cols), '-y', String(rows));
  }

  /** Wait until the screen matches; returns the match. */
  waitFor(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    return until(
      String(pattern),
      ms,
      () => this.screen().match(pattern) ?? undefined,
      () => this.screen(),
    );
  }

  /** The processes the pane's shell started (the client under test while it runs). */
  shellChildren(): number[] {
    const shell = this.#tmux('display-message', '-p', '#{pane_pid}').trim();
    try {
      return execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim().split('\n').map(Number);
    } catch {
      return [];
    }
  }

  kill(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // Already gone.
    }
    // A killed server leaves its socket behind.
    const dir = path.join(process.env.TMUX_TMPDIR ?? os.tmpdir(), `tmux-${process.getuid?.() ?? 0}`);
    rmSync(path.join(dir, this.socket), { force: true });
  }
}
