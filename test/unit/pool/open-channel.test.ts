import { describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { ChannelError } from '../../../src/errors.js';
import { SshPool } from '../../../src/index.js';
import { fakeFactory, until } from './fake-connection.js';

const host = plainHostConfig({ host: 'h.example', user: 'u', identityFiles: [] });

function setup() {
  const { factory, made } = fakeFactory({ maxSessions: 100 });
  const pool = new SshPool({ connectionFactory: factory, concurrency: 1000, channelsPerConnection: 10 });
  return { pool, made };
}

describe('SshPool.openChannel (direct-tcpip / direct-streamlocal)', () => {
  it('leases forwarding channels like exec channels: 25 at once spill over 3 connections', async () => {
    const { pool, made } = setup();
    const leases = await Promise.all(
      Array.from({ length: 25 }, (_, i) => pool.openChannel(host, { host: 'db.internal', port: 5000 + i })),
    );
    expect(made).toHaveLength(3);
    expect(made.flatMap((c) => c.forwards)).toHaveLength(25);
    expect(made[0]!.forwards[0]).toBe('db.internal:5000');
    expect(pool.stats().openChannels).toBe(25);
    for (const l of leases.slice(0, 20)) l.close();
    await Promise.all(leases.slice(0, 20).map((l) => l.closed));
    expect(pool.stats().openChannels).toBe(5);
    for (const l of leases.slice(20)) l.close();
    await pool.close();
  });

  it('long-lived forwarded connections are bounded by channel slots, not by `concurrency`', async () => {
    const { factory, made } = fakeFactory({ maxSessions: 100 });
    const pool = new SshPool({ connectionFactory: factory, concurrency: 2, channelsPerConnection: 10 });
    const leases = await Promise.all(
      Array.from({ length: 12 }, () => pool.openChannel(host, { host: 'h', port: 1 })),
    );
    expect(leases).toHaveLength(12);
    expect(made).toHaveLength(2);
    for (const l of leases) l.close();
    await pool.close();
  });

  it('opens a Unix socket target as direct-streamlocal', async () => {
    const { pool, made } = setup();
    const lease = await pool.openChannel(host, { path: '/run/app.sock' });
    expect(made[0]!.forwards).toEqual(['/run/app.sock']);
    lease.channel.write('ping');
    await until(() => made[0]!.channels[0]!.input.length === 1, 'bytes on the channel');
    expect(Buffer.concat(made[0]!.channels[0]!.input).toString()).toBe('ping');
    await lease[Symbol.asyncDispose]();
    expect(pool.stats().openChannels).toBe(0);
    await pool.close();
  });

  it('a refused open fails in ssh words, once, without lowering the capacity or touching other channels', async () => {
    const { pool, made } = setup();
    const open = await pool.openChannel(host, { host: 'up', port: 1 });
    const err = await pool.openChannel(host, { host: 'refused', port: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({
      code: 'SSHMUX_ERR_OPEN_FAILED',
      message: 'open failed: connect failed: Connection refused',
    });
    expect(made).toHaveLength(1);
    expect(made[0]!.forwards).toEqual(['up:1', 'refused:1']);
    expect(made[0]!.capacity).toBe(10);
    expect(pool.stats().openChannels).toBe(1);
    expect(open.channel.writable).toBe(true);
    open.close();
    await pool.close();
  });

  it('refuses a malformed target before connecting', async () => {
    const { pool, made } = setup();
    await expect(pool.openChannel(host, { host: '', port: 80 })).rejects.toThrow(/channel target/);
    await expect(pool.openChannel(host, { host: 'x', port: 70000 })).rejects.toThrow(/channel target/);
    expect(made).toHaveLength(0);
    await pool.close();
  });
});
