import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// A minimal runner for Windows node.exe under Wine (the win branch's test/helpers/wine.ts is
// the tier's full one; the lead unifies them). Wine gives node.exe no Unix pipe as stdio, so
// stdin, stdout and stderr are files.

const SETUP_DIR = '/var/cache/sshmux-windows';

/** node.exe and the Wine prefix that scripts/setup-windows.sh made (or the env's SSHMUX_WIN_*). */
export const wine = {
  nodeExe: process.env.SSHMUX_WIN_NODE_EXE ?? path.join(SETUP_DIR, 'node-20', 'bin', 'node.exe'),
  prefix: process.env.SSHMUX_WIN_WINEPREFIX ?? path.join(SETUP_DIR, 'prefix'),
};

/** A Linux path as Windows programs under Wine see it, backslashes and all (`/tmp/x` → `Z:\tmp\x`). */
export function winPath(p: string): string {
  return `Z:${path.resolve(p)}`.replaceAll('/', '\\');
}

export interface WineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Start `node.exe argv…` under Wine; `done` resolves when it exits (not at end of output). */
export function startWineNode(argv: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'sshmux-wine-node-'));
  const files = ['stdin', 'stdout', 'stderr'].map((n) => path.join(scratch, n)) as [string, string, string];
  writeFileSync(files[0], '');
  const fds = [openSync(files[0], 'r'), openSync(files[1], 'w'), openSync(files[2], 'w')];
  const child = spawn('wine', [wine.nodeExe, ...argv], {
    env: { ...process.env, ...env, WINEPREFIX: wine.prefix, WINEDEBUG: '-all' },
    stdio: fds,
  });
  const done = new Promise<WineResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      for (const fd of fds) closeSync(fd);
      const read = (f: string) => readFileSync(f, 'utf8').replaceAll('\r\n', '\n');
      resolve({ code, stdout: read(files[1]), stderr: read(files[2]) });
      rmSync(scratch, { recursive: true, force: true });
    });
  });
  return { done };
}
