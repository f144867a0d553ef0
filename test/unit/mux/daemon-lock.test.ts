import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withLock } from '../../../src/mux/daemon-lock.js';

describe('withLock', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function lockFile(): string {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-lock-'));
    return path.join(dir, 'lock');
  }

  it('runs critical sections one at a time and removes the lock after', async () => {
    const file = lockFile();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withLock(file, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(existsSync(file)).toBe(false);
  });

  it('breaks a lock whose holder died (kill -9 during start-up)', async () => {
    const file = lockFile();
    writeFileSync(file, '2147483646');
    await expect(withLock(file, async () => 'got it', 2_000)).resolves.toBe('got it');
  });

  it('waits for a live holder and gives up after the timeout', async () => {
    const file = lockFile();
    writeFileSync(file, String(process.pid));
    await expect(withLock(file, async () => 'never', 200)).rejects.toThrow(/Timed out after 200 ms/);
    expect(existsSync(file)).toBe(true);
  });
});
