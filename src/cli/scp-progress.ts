import type { FileProgress } from '../transfer/copy-context.js';
import { printablePath } from '../transfer/sftp-status.js';

const UNITS = ' KMGT';

/** progressmeter.c format_size: 4 digits and a unit, 1024 based. */
export function formatSize(bytes: number): string {
  let i = 0;
  let n = bytes;
  while (n >= 10000 && i < UNITS.length - 1) {
    n = Math.floor((n + 512) / 1024);
    i++;
  }
  return `${String(n).padStart(4)}${UNITS[i]}${i ? 'B' : ' '}`;
}

/** progressmeter.c format_rate: one decimal, 1024 based. */
export function formatRate(bytesPerSecond: number): string {
  let n = Math.floor(bytesPerSecond) * 100;
  let i = 0;
  while (n >= 100 * 1000 && i < UNITS.length - 1) {
    n = Math.floor((n + 512) / 1024);
    i++;
  }
  if (i === 0) {
    i++;
    n = Math.floor((n + 512) / 1024);
  }
  const whole = Math.floor((n + 5) / 100);
  const tenth = Math.floor((n + 5) / 10) % 10;
  return `${String(whole).padStart(3)}.${tenth}${UNITS[i]}${i ? 'B' : ' '}`;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `  ${pad(m)}:${pad(s % 60)}`;
}

/**
 * scp's meter on a terminal: `name  pct% size rate ETA`, redrawn every second with `\r`, the
 * last state followed by a newline. `now` is injectable for tests.
 */
export class ScpProgress implements FileProgress {
  #bytes = 0;
  #rate = 0;
  #lastBytes = 0;
  #last: number;
  readonly #start: number;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly out: NodeJS.WritableStream & { columns?: number },
    readonly name: string,
    readonly size: number,
    readonly now: () => number = () => performance.now() / 1000,
  ) {
    this.#start = this.now();
    this.#last = this.#start;
    this.#draw(false);
    this.#timer = setInterval(() => this.#draw(false), 1000);
    this.#timer.unref();
  }

  static for(
    out: NodeJS.WritableStream & { columns?: number },
  ): (name: Buffer, size: number) => FileProgress {
    return (name, size) => new ScpProgress(out, printablePath(name), size);
  }

  update(bytes: number): void {
    this.#bytes = bytes;
  }

  finish(): void {
    clearInterval(this.#timer);
    this.#draw(true);
    this.out.write('\n');
  }

  /** The line as refresh_progress_meter builds it. */
  line(done: boolean): string {
    const now = this.now();
    const left = this.size - this.#bytes;
    const elapsed = left > 0 && !done ? now - this.#last : now - this.#start;
    const moved = left > 0 && !done ? this.#bytes - this.#lastBytes : this.size;
    const speed = elapsed > 0 ? moved / elapsed : moved;
    this.#rate = this.#rate !== 0 && left > 0 ? this.#rate * 0.9 + speed * 0.1 : speed;
    this.#last = now;
    this.#lastBytes = this.#bytes;
    const width = this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
    const nameWidth = width - 36;
    const pct =
      this.size === 0 || this.#bytes === this.size ? 100 : Math.floor((this.#bytes / this.size) * 100);
    let text = nameWidth > 0 ? this.name.slice(0, nameWidth).padEnd(nameWidth) : '';
    text += ` ${String(pct).padStart(3)}% ${formatSize(this.#bytes)} ${formatRate(this.#rate)}/s `;
    if (this.#rate === 0 && left > 0) text += '  --:-- ETA';
    else if (left > 0) text += `${clock(left / this.#rate)} ETA`;
    else text += `${clock(elapsed)}    `;
    return `\r${text}`.slice(0, width);
  }

  #draw(done: boolean): void {
    this.out.write(this.line(done));
  }
}
