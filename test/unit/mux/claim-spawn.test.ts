import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalError } from '../../../src/errors.js';
import { prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { claimSpawn, DaemonNotRunningError, ensureDaemon } from '../../../src/mux/mux-client.js';

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

  function endpointIn(d: string) {
    const env = {
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: path.join(d, 'rt') },
      uid: process.getuid?.() ?? -1,
      username: 'me',
      tmpdir: d,
      homedir: d,
    };
    const e = selectEndpoint(env);
    prepareEndpoint(e, env);
    return e;
  }

  it('gives up at once, with a clear error, when the daemon it started exits with a failure', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-claim-'));
    const endpoint = endpointIn(dir);
    const t0 = Date.now();
    const err = await ensureDaemon(endpoint, {
      version: '1',
      start: () => Promise.resolve(1),
      timeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect((err as LocalError).code).toBe('SSHMUX_ERR_MUX_START');
    expect((err as Error).message).toMatch(/failed to start \(exit code 1\); see .*daemon\.log/);
    // The next invocation may try again.
    expect(existsSync(endpoint.spawnFile)).toBe(false);
  });

  it('keeps waiting when the started daemon left because another one serves (exit 0)', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-claim-'));
    const endpoint = endpointIn(dir);
    let starts = 0;
    const err = await ensureDaemon(endpoint, {
      version: '1',
      start: () => {
        starts++;
        return Promise.resolve(0);
      },
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(starts).toBe(1);
    expect(err).toBeInstanceOf(DaemonNotRunningError);
  });
});
