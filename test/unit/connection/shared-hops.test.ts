import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/connection/connection.js';
import { SharedHops } from '../../../src/connection/shared-hops.js';

function fakeHop() {
  const closedListeners: (() => void)[] = [];
  const refs: string[] = [];
  let closes = 0;
  const conn = {
    onClosed: (l: () => void) => closedListeners.push(l),
    close: () => {
      closes++;
    },
  } as unknown as Connection;
  const socket = Object.assign(new PassThrough(), {
    ref: () => refs.push('ref'),
    unref: () => refs.push('unref'),
  });
  return {
    conn,
    socket,
    refs,
    closes: () => closes,
    die: () => {
      for (const l of closedListeners) l();
    },
  };
}

const never = new AbortController().signal;

describe('SharedHops', () => {
  it('opens a hop once for all its users and closes it when the last releases', async () => {
    const hops = new SharedHops();
    const hop = fakeHop();
    let opens = 0;
    const open = async () => {
      opens++;
      return { conn: hop.conn, socket: hop.socket };
    };
    const [a, b] = await Promise.all([hops.acquire('k', open, never), hops.acquire('k', open, never)]);
    expect(opens).toBe(1);
    expect(a.conn).toBe(b.conn);
    a.release();
    expect(hop.closes()).toBe(0);
    b.release();
    b.release(); // idempotent
    await Promise.resolve();
    expect(hop.closes()).toBe(1);
    await hops.acquire('k', open, never);
    expect(opens).toBe(2); // a closed hop is never handed out again
  });

  it('keeps the transport ref-ed while any user is busy', async () => {
    const hops = new SharedHops();
    const hop = fakeHop();
    const open = async () => ({ conn: hop.conn, socket: hop.socket });
    const a = await hops.acquire('k', open, never);
    const b = await hops.acquire('k', open, never);
    a.ref();
    b.ref();
    a.unref();
    await new Promise((r) => setImmediate(r));
    expect(hop.refs.at(-1)).toBe('ref'); // b is still busy
    b.unref();
    await new Promise((r) => setImmediate(r));
    expect(hop.refs.at(-1)).toBe('unref');
  });

  it('a hop that died is replaced; one caller aborting does not cancel the shared connect', async () => {
    const hops = new SharedHops();
    const first = fakeHop();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const open = async () => {
      await gate;
      return { conn: first.conn, socket: first.socket };
    };
    const ac = new AbortController();
    const quitter = hops.acquire('k', open, ac.signal);
    const stayer = hops.acquire('k', open, never);
    ac.abort(new Error('gone'));
    await expect(quitter).rejects.toThrow('gone');
    release();
    const kept = await stayer;
    expect(kept.conn).toBe(first.conn);
    first.die();
    const second = fakeHop();
    const again = await hops.acquire('k', async () => ({ conn: second.conn, socket: second.socket }), never);
    expect(again.conn).toBe(second.conn);
  });
});
