import type { Duplex } from 'node:stream';
import type { Connection } from './connection.js';

/** A use of a shared jump connection; `release()` once the connection through it is gone. */
export interface HopLease {
  readonly conn: Connection;
  /** Keep the process alive for this user (its connection is busy) or stop doing so. */
  ref(): void;
  unref(): void;
  release(): void;
}

interface Entry {
  readonly ready: Promise<{ conn: Connection; socket: RefSocket | undefined }>;
  users: number;
  /** Users that want the transport ref'ed; the socket is ref'ed while any does. */
  refs: number;
  dead: boolean;
}

type RefSocket = Duplex & { ref?: () => void; unref?: () => void };

/**
 * ProxyJump hops shared by every connection behind them, as a bastion expects: one login per
 * hop (not one per target), so fanning out to many hosts behind one jump neither re-authenticates
 * nor trips its MaxStartups. A hop closes when the last connection through it releases it, and
 * one that died is never handed out again.
 */
export class SharedHops {
  readonly #entries = new Map<string, Entry>();

  /**
   * The hop for `key` (the route up to and including this hop), opened by `open` if none is
   * alive. The connect is shared and not cancelled by one caller's `signal`: that caller stops
   * waiting and releases, the others keep it.
   */
  async acquire(
    key: string,
    open: () => Promise<{ conn: Connection; socket: RefSocket | undefined }>,
    signal: AbortSignal,
  ): Promise<HopLease> {
    let entry = this.#entries.get(key);
    if (!entry || entry.dead) {
      const created: Entry = { ready: open(), users: 0, refs: 0, dead: false };
      this.#entries.set(key, created);
      const forget = (): void => {
        created.dead = true;
        if (this.#entries.get(key) === created) this.#entries.delete(key);
      };
      created.ready.then(({ conn }) => conn.onClosed(forget), forget);
      entry = created;
    }
    const held = entry;
    held.users++;
    let released = false;
    let refed = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (refed) unref();
      held.users--;
      if (held.users === 0) {
        held.dead = true;
        if (this.#entries.get(key) === held) this.#entries.delete(key);
        held.ready.then(
          ({ conn }) => conn.close(),
          () => {},
        );
      }
    };
    const apply = async (): Promise<void> => {
      const { socket } = await held.ready;
      if (held.refs > 0) socket?.ref?.();
      else socket?.unref?.();
    };
    const unref = (): void => {
      if (!refed) return;
      refed = false;
      held.refs--;
      void apply().catch(() => {});
    };
    try {
      const { conn } = await abortable(held.ready, signal);
      return {
        conn,
        ref: () => {
          if (refed || released) return;
          refed = true;
          held.refs++;
          void apply().catch(() => {});
        },
        unref,
        release,
      };
    } catch (err) {
      release();
      throw err;
    }
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
