import { PassThrough } from 'node:stream';
import type { Client } from 'ssh2';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Keepalive } from '../../../src/connection/keepalive.js';

function fakeClient() {
  const pings: number[] = [];
  const client = {
    _callbacks: [] as ((err?: unknown) => void)[],
    _protocol: { ping: () => pings.push(Date.now()) },
  };
  return { client, pings };
}

describe('Keepalive', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings each silent interval and declares the peer dead after countMax silent intervals', () => {
    const { client, pings } = fakeClient();
    const socket = new PassThrough();
    const dead = vi.fn();
    const ka = new Keepalive(client as unknown as Client, socket, 1000, 2, dead);
    expect(ka.supported).toBe(true);
    ka.start();
    vi.advanceTimersByTime(1000);
    expect(pings).toHaveLength(1);
    // A reply slot is queued for each ping so ssh2's global-request callbacks stay in order.
    expect(client._callbacks).toHaveLength(1);
    expect(dead).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(dead).toHaveBeenCalledWith(2000);
    vi.advanceTimersByTime(5000);
    expect(dead).toHaveBeenCalledTimes(1);
    expect(pings).toHaveLength(1);
  });

  it('treats any bytes from the server as a sign of life', () => {
    const { client, pings } = fakeClient();
    const socket = new PassThrough();
    socket.resume();
    const dead = vi.fn();
    new Keepalive(client as unknown as Client, socket, 1000, 2, dead).start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(900);
      socket.emit('data', Buffer.from('reply'));
      vi.advanceTimersByTime(100);
    }
    expect(dead).not.toHaveBeenCalled();
    expect(pings).toHaveLength(10);
  });

  it('never keeps the event loop alive (its timer is unref()ed) and stops cleanly', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const { client } = fakeClient();
    const socket = new PassThrough();
    const ka = new Keepalive(client as unknown as Client, socket, 1000, 3, () => {});
    ka.start();
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    ka.stop();
    expect(socket.listenerCount('data')).toBe(0);
    spy.mockRestore();
  });

  it('is off for interval 0 and unsupported without ssh2 internals', () => {
    const socket = new PassThrough();
    const off = new Keepalive(fakeClient().client as unknown as Client, socket, 0, 3, () => {});
    off.start();
    expect(socket.listenerCount('data')).toBe(0);
    const bare = new Keepalive({} as unknown as Client, socket, 1000, 3, () => {});
    expect(bare.supported).toBe(false);
  });
});
