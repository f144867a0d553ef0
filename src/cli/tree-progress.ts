import type { PushProgress } from '../push/options.js';
import type { CliContext } from './context.js';

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** push's and pull's progress on stderr: rewritten in place on a terminal, a line every 2 s otherwise. */
export function progressPrinter(
  ctx: CliContext,
  label: string,
): { update: (p: PushProgress) => void; done: () => void } {
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY === true;
  const every = tty ? 200 : 2000;
  let last = 0;
  let shown: PushProgress | undefined;
  const line = (p: PushProgress) =>
    `${label}: ${p.filesDone}/${p.filesTotal} files, ${mib(p.bytesDone)}/${mib(p.bytesTotal)}`;
  return {
    update(p) {
      shown = p;
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      ctx.stderr.write(tty ? `\r${line(p)}\x1b[K` : `${line(p)}\n`);
    },
    done() {
      if (shown) ctx.stderr.write(tty ? `\r${line(shown)}\x1b[K\n` : `${line(shown)}\n`);
    },
  };
}
