import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

const MiB = 1024 * 1024;

/** What the server has sent into `stream`'s buffer while nobody reads it, once it stops growing. */
async function bufferedWhileUnread(stream: Readable): Promise<number> {
  let last = -1;
  for (let stable = 0; stable < 4; ) {
    await sleep(250);
    if (stream.readableLength === last) stable++;
    else stable = 0;
    last = stream.readableLength;
  }
  return last;
}

async function sha256(stream: Readable): Promise<{ hex: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    h.update(chunk);
    bytes += chunk.length;
  }
  return { hex: h.digest('hex'), bytes };
}

/**
 * `RunOptions.receiveWindow`: the client grants sshd a wider window than ssh2's 2 MiB, which is
 * what caps one channel at window ÷ RTT on a long link. Proven without timing: a reader that
 * reads nothing gets as much as the window lets the server send (sshd honours it), never more
 * (flow control holds), and every byte arrives unchanged on both streams.
 */
describe('receive window of a channel', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd();
    await sshd.sh('head -c 48M /dev/urandom > /tmp/rw.bin && chmod 644 /tmp/rw.bin');
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('lets sshd send up to the wider window to a reader that is not reading, and no further', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    const held = async (receiveWindow?: number): Promise<number> => {
      const proc = await pool.spawn(host, ['head', '-c', String(40 * MiB), '/dev/zero'], {
        ...(receiveWindow !== undefined && { receiveWindow }),
      });
      proc.stdin.end();
      const buffered = await bufferedWhileUnread(proc.stdout);
      proc.stdout.resume();
      proc.stderr.resume();
      const status = await proc.exited;
      expect(status.code).toBe(0);
      return buffered;
    };
    const plain = await held();
    const wide = await held(12 * MiB);
    // ssh2's 2 MiB window (plus the stream's 2 MiB high-water mark) against 12 MiB.
    expect(plain).toBeGreaterThan(1 * MiB);
    expect(plain).toBeLessThanOrEqual(4 * MiB + 64 * 1024);
    expect(wide).toBeGreaterThan(10 * MiB);
    expect(wide).toBeLessThanOrEqual(14 * MiB + 64 * 1024);
  });

  it('delivers stdout and stderr byte for byte with a 16 MiB window', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    const want = (await sshd.sh("sha256sum /tmp/rw.bin | cut -d' ' -f1")).trim();
    const proc = await pool.spawn(host, 'cat /tmp/rw.bin; cat /tmp/rw.bin >&2', { receiveWindow: 16 * MiB });
    proc.stdin.end();
    const [out, err] = await Promise.all([sha256(proc.stdout), sha256(proc.stderr)]);
    expect((await proc.exited).code).toBe(0);
    expect(out).toEqual({ hex: want, bytes: 48 * MiB });
    expect(err).toEqual({ hex: want, bytes: 48 * MiB });
  });

  it('refuses a window out of range, naming the option, before opening a channel', async () => {
    await using pool = sshd.pool();
    const host = sshd.hostConfig();
    for (const bad of [1024, 2 * MiB + 0.5, 512 * MiB, '16M']) {
      await expect(pool.exec(host, 'true', { receiveWindow: bad as number })).rejects.toThrow(ConfigError);
      await expect(pool.exec(host, 'true', { receiveWindow: bad as number })).rejects.toThrow(
        /receiveWindow/,
      );
    }
    expect(pool.stats().connections).toBe(0);
  });
});
