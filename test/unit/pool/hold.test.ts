import { describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { NetworkError } from '../../../src/errors.js';
import { SshPool } from '../../../src/index.js';
import { type FakeConnection, fakeFactory, until } from './fake-connection.js';

const host = plainHostConfig({ host: 'h.example', user: 'u', identityFiles: [] });

async function runOne(pool: SshPool, made: FakeConnection[]): Promise<void> {
  const r = pool.exec(host, 'x');
  const open = () => made.flatMap((c) => c.channels).filter((c) => !c.isClosed);
  await until(() => open().length === 1, 'channel');
  open()[0]!.finish(0);
  await r;
}

describe('SshPool.hold (ssh -N)', () => {
  it('keeps the connection from idle close, with no channel, until released', async () => {
    const { factory, made } = fakeFactory({ maxSessions: 10 });
    const pool = new SshPool({ connectionFactory: factory, persist: 20 });
    const held = await pool.hold(host);
    expect(held.destination).toBe('u@h.example:22');
    expect(made).toHaveLength(1);
    expect(made[0]!.channels).toHaveLength(0);
    // Well past persist: still open, and its socket keeps the process alive.
    await new Promise((r) => setTimeout(r, 100));
    expect(made[0]!.isClosed).toBe(false);
    expect(made[0]!.refed).toBe(true);
    // Work meanwhile shares the held connection.
    await runOne(pool, made);
    expect(made).toHaveLength(1);
    held.release();
    held.release();
    await until(() => made[0]!.isClosed, 'idle close after release');
    expect(await held.ended).toBeUndefined();
    await pool.close();
  });

  it('says when the held connection dies, and takes no global permit', async () => {
    const { factory, made } = fakeFactory({ maxSessions: 10 });
    const pool = new SshPool({ connectionFactory: factory, concurrency: 1 });
    const held = await pool.hold(host);
    // concurrency 1: an exec still runs while the hold lasts.
    await runOne(pool, made);
    made[0]!.die(new NetworkError('gone'));
    expect((await held.ended)?.message).toBe('gone');
    expect(pool.stats().openChannels).toBe(0);
    await pool.close();
  });
});
