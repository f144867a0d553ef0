import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimSpawn } from '../../../src/mux/mux-client.js';

describe('claimSpawn', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets exactly one of many simultaneous clients start the daemon', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-claim-'));
    const file = path.join(dir, 'spawning');
    const claims = await Promise.all(Array.from({ length: 20 }, () => claimSpawn(file)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(existsSync(file)).toBe(true);
  });

  it('takes over a claim left by a daemon that never came up', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-claim-'));
    const file = path.join(dir, 'spawning');
    expect(await claimSpawn(file)).toBe(true);
    expect(await claimSpawn(file)).toBe(false);
    expect(await claimSpawn(file, Date.now() + 11_000)).toBe(true);
  });
});
