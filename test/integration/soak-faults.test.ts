import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSshmuxError } from '../../src/index.js';
import { rawFromString } from '../../src/manifest/raw-path.js';
import { type UploadContext, uploadSftp } from '../../src/push/upload.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { ProcessHooks, settle, tcpSocketCount } from '../soak/checks.js';

/** Connects through a proxy that resets every connection within its first `maxCutOffset` bytes. */
async function resetConnects(
  sshd: StartedSshd,
  maxCutOffset: number,
  seed: number,
): Promise<{ ms: number[]; hooks: ProcessHooks; cuts: number }> {
  const hooks = new ProcessHooks();
  const ms: number[] = [];
  try {
    await using proxy = await FaultProxy.start({
      targetPort: sshd.port,
      seed,
      rates: { cut: 1 },
      maxCutOffset,
    });
    for (let i = 0; i < 12; i++) {
      await using pool = sshd.pool();
      const t0 = Date.now();
      const err = await pool
        .exec(sshd.hostConfig('backup', { port: proxy.port, connectTimeoutMs: 15_000 }), 'true')
        .catch((e: unknown) => e);
      ms.push(Date.now() - t0);
      expect(isSshmuxError(err), String(err)).toBe(true);
      expect(err).toMatchObject({ kind: 'network' });
      // ssh2 reports the closed socket a tick after the reset: give a late error the chance to surface.
      await sleep(100);
    }
    return { ms, hooks, cuts: proxy.counts.cut };
  } finally {
    hooks.stop();
  }
}

/** Single faults the soak found, pinned as regression tests. */
describe('faults during connect', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('a reset after the version exchange fails connect at once with kind network, not after ConnectTimeout', async () => {
    const sockets = tcpSocketCount();
    const { ms, cuts } = await resetConnects(sshd, 2_000, 7);
    expect(cuts).toBe(12);
    expect(Math.max(...ms)).toBeLessThan(3_000);
    expect(await settle(tcpSocketCount, sockets, 3_000)).toBeLessThanOrEqual(sockets);
  });

  it("a reset before the server's version line fails connect classified and leaves no unhandled 'error' event", async () => {
    const { ms, hooks } = await resetConnects(sshd, 24, 11);
    expect(Math.max(...ms)).toBeLessThan(3_000);
    expect({ uncaught: hooks.uncaught, unhandled: hooks.unhandled }).toEqual({ uncaught: [], unhandled: [] });
  });

  it('an SFTP lease whose connection is reset while the session opens settles (rejects), never hangs', async () => {
    // Resets anywhere in the first 9 KB: handshake, auth, channel open, subsystem request, SFTP init.
    await using proxy = await FaultProxy.start({
      targetPort: sshd.port,
      seed: 5,
      rates: { cut: 1 },
      maxCutOffset: 9_000,
    });
    const hung: number[] = [];
    for (let i = 0; i < 80; i++) {
      await using pool = sshd.pool();
      const host = sshd.hostConfig('backup', { port: proxy.port, connectTimeoutMs: 5_000 });
      const outcome = await Promise.race([
        pool.sftp(host, { signal: AbortSignal.timeout(8_000) }).then(
          async (lease) => {
            await lease.close();
            return 'leased';
          },
          (e: unknown) => (isSshmuxError(e) ? 'failed' : `unclassified ${String(e)}`),
        ),
        sleep(10_000).then(() => 'hung'),
      ]);
      if (outcome === 'hung') hung.push(i);
      else expect(outcome).toMatch(/^(leased|failed)$/);
      if (hung.length > 0) break;
    }
    expect(hung).toEqual([]);
  }, 240_000);
});

describe('faults during a push upload', () => {
  it('an SFTP upload whose write stream never closes rejects as soon as the push aborts', async () => {
    // What the soak hit: every byte was written, then the session died while ssh2's WriteStream
    // waited for the reply to CLOSE of its handle: no 'close' ever, and pipeline() never settled,
    // not even when the push's signal aborted.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-upload-'));
    try {
      const file = path.join(dir, 'f');
      writeFileSync(file, Buffer.alloc(4 * 1024 * 1024, 1));
      const st = statSync(file);
      const sftp = Object.assign(new EventEmitter(), {
        createWriteStream: () =>
          new Writable({
            highWaterMark: 1024,
            write: (_chunk, _enc, done) => done(),
            destroy: () => {}, // ssh2 waits for a CLOSE reply that never comes
          }),
      }) as unknown as SFTPWrapper;
      const abort = new AbortController();
      const ctx = {
        destination: 'backup@host:22',
        limiter: undefined,
        signal: abort.signal,
        onBytes: () => {},
      } as unknown as UploadContext;
      const upload = uploadSftp(
        sftp,
        {
          rel: rawFromString('f'),
          localPath: Buffer.from(file),
          remotePath: rawFromString('/r/f'),
          remoteTmp: rawFromString('/r/.f.sshmux-partial'),
          relTmp: rawFromString('.f.sshmux-partial'),
          file: { size: st.size, mtime: Math.floor(st.mtimeMs / 1000), mode: 0o644 },
          start: 0,
        },
        ctx,
      ).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await sleep(100);
      abort.abort(new Error('push aborted'));
      const outcome = await Promise.race([upload, sleep(3_000).then(() => 'hung')]);
      expect(outcome).not.toBe('hung');
      expect(outcome).toBeInstanceOf(Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
