import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Pids of the daemons serving XDG_RUNTIME_DIR `runtimeDir` (found by their --runtime-dir argument). */
export function daemonPids(runtimeDir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', `--runtime-dir ${path.join(runtimeDir, 'sshmux')}( |$)`], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number)
      .filter((pid) => pid !== process.pid);
  } catch {
    return [];
  }
}

function connects(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** What is wrong with a daemon directory right now: '' when healthy. */
async function stateNow(runtimeDir: string): Promise<string> {
  const dir = path.join(runtimeDir, 'sshmux');
  const pids = daemonPids(runtimeDir);
  const socket = path.join(dir, 'mux.sock');
  if (pids.length > 1) return `${pids.length} daemons serve ${dir}`;
  if (existsSync(path.join(dir, 'spawning'))) return `stale spawn marker ${dir}/spawning`;
  if (pids.length === 0) return existsSync(socket) ? `stale socket ${socket} with no daemon` : '';
  if (!(await connects(socket))) return `daemon ${pids[0]} does not accept on ${socket}`;
  return '';
}

/**
 * After a killed daemon's directory was used again: one live daemon that accepts on its socket (or
 * none and no socket), and no stale spawn marker. Waits up to `ms` for a start in progress to finish.
 */
export async function daemonState(runtimeDir: string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const bad = await stateNow(runtimeDir);
    if (bad === '' || Date.now() > end) return bad;
    await sleep(250);
  }
}
