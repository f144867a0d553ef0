import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(lockFile: string): Promise<boolean> {
  try {
    const fh = await open(lockFile, 'wx', 0o600);
    try {
      await fh.writeFile(String(process.pid));
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LocalError(`Cannot create the lock file ${lockFile}`, { cause: err });
  }
}

/** Remove a lock whose holder died inside its critical section (kill -9 during start-up). */
async function breakIfStale(lockFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(lockFile, 'utf8'), 10);
  } catch {
    return;
  }
  // An empty file is a holder between create and write: alive by definition.
  if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) return;
  // Rename first so two breakers cannot both delete: only one rename of this file succeeds.
  const aside = `${lockFile}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockFile, aside);
  } catch {
    return;
  }
  const pidAside = Number.parseInt(await readFile(aside, 'utf8').catch(() => ''), 10);
  if (pidAside !== pid) {
    // A live holder took the lock between our read and rename: give it back.
    await rename(aside, lockFile).catch(() => {});
    return;
  }
  await unlink(aside).catch(() => {});
}

/**
 * Run `fn` holding an exclusive lock file (O_EXCL create, holder's pid inside). Daemons
 * hold it only while they probe, bind and unbind the socket, so the wait is milliseconds.
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  while (!(await tryCreate(lockFile))) {
    await breakIfStale(lockFile);
    if (Date.now() > deadline) {
      throw new LocalError(`Timed out after ${timeoutMs} ms waiting for the lock ${lockFile}`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => {});
  }
}
