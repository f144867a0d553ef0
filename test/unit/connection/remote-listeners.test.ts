import { EventEmitter } from 'node:events';
import type { Client } from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import { RemoteListeners } from '../../../src/connection/remote-listeners.js';

type Cb = (err: Error | undefined, port?: number) => void;

/** Enough of ssh2's Client: global requests answered by `answer`, channels offered by `emit`. */
class FakeClient extends EventEmitter {
  requests: string[] = [];
  answer: (what: string) => Error | number | undefined = () => undefined;
  forwardIn(addr: string, port: number, cb: Cb) {
    this.requests.push(`tcpip-forward ${addr}:${port}`);
    const a = this.answer(`${addr}:${port}`);
    queueMicrotask(() => (a instanceof Error ? cb(a) : cb(undefined, typeof a === 'number' ? a : port)));
  }
  unforwardIn(addr: string, port: number, cb: Cb) {
    this.requests.push(`cancel-tcpip-forward ${addr}:${port}`);
    queueMicrotask(() => cb(undefined));
  }
  openssh_forwardInStreamLocal(path: string, cb: Cb) {
    this.requests.push(`streamlocal-forward ${path}`);
    queueMicrotask(() => cb(undefined));
  }
  openssh_unforwardInStreamLocal(path: string, cb: Cb) {
    this.requests.push(`cancel-streamlocal-forward ${path}`);
    queueMicrotask(() => cb(undefined));
  }
  offer(kind: 'tcp' | 'unix', info: Record<string, unknown>) {
    const accept = vi.fn();
    const reject = vi.fn();
    this.emit(`${kind} connection`, info, accept, reject);
    return { accept, reject };
  }
}

function setup() {
  const client = new FakeClient();
  return { client, listeners: new RemoteListeners(client as unknown as Client, 'u@h:22') };
}

describe('RemoteListeners', () => {
  it('delivers each offered channel to the owner of that listener only', async () => {
    const { client, listeners } = setup();
    const a = vi.fn();
    const b = vi.fn();
    await listeners.listen({ address: 'localhost', port: 8080 }, a);
    client.answer = () => 40001;
    const lb = await listeners.listen({ address: '', port: 0 }, b);
    expect(lb.port).toBe(40001);
    client.offer('tcp', { destIP: 'localhost', destPort: 8080, srcIP: '10.1.1.1', srcPort: 5 });
    client.offer('tcp', { destIP: '', destPort: 40001, srcIP: '10.1.1.2', srcPort: 6 });
    expect(a).toHaveBeenCalledTimes(1);
    expect(a.mock.calls[0]![0]).toMatchObject({ originAddress: '10.1.1.1', originPort: 5 });
    expect(b).toHaveBeenCalledTimes(1);
    const stray = client.offer('tcp', { destIP: 'localhost', destPort: 9999 });
    expect(stray.reject).toHaveBeenCalled();
  });

  it('refuses a second owner of the same listener without asking the server', async () => {
    const { client, listeners } = setup();
    const first = vi.fn();
    await listeners.listen({ address: 'localhost', port: 8080 }, first);
    await expect(listeners.listen({ address: 'localhost', port: 8080 }, vi.fn())).rejects.toMatchObject({
      code: 'SSHMUX_ERR_FORWARD_REFUSED',
    });
    expect(client.requests).toEqual(['tcpip-forward localhost:8080']);
    client.offer('tcp', { destIP: 'localhost', destPort: 8080 });
    expect(first).toHaveBeenCalledTimes(1);
  });

  it('a server refusal is SSHMUX_ERR_FORWARD_REFUSED and leaves nothing routed', async () => {
    const { client, listeners } = setup();
    client.answer = () => new Error('Unable to bind to localhost:22');
    const handler = vi.fn();
    await expect(listeners.listen({ address: 'localhost', port: 22 }, handler)).rejects.toMatchObject({
      code: 'SSHMUX_ERR_FORWARD_REFUSED',
      kind: 'channel',
    });
    expect(client.offer('tcp', { destIP: 'localhost', destPort: 22 }).reject).toHaveBeenCalled();
    expect(handler).not.toHaveBeenCalled();
  });

  it('close() cancels on the server and refuses later channels; Unix sockets alike', async () => {
    const { client, listeners } = setup();
    const handler = vi.fn();
    const tcp = await listeners.listen({ address: 'localhost', port: 8080 }, handler);
    const unix = await listeners.listen({ path: '/tmp/s' }, handler);
    expect(unix.port).toBe(-2);
    client.offer('unix', { socketPath: '/tmp/s' });
    expect(handler).toHaveBeenCalledTimes(1);
    await Promise.all([tcp.close(), unix.close(), tcp.close()]);
    expect(client.requests.slice(2)).toEqual([
      'cancel-tcpip-forward localhost:8080',
      'cancel-streamlocal-forward /tmp/s',
    ]);
    expect(client.offer('unix', { socketPath: '/tmp/s' }).reject).toHaveBeenCalled();
    expect(client.offer('tcp', { destIP: 'localhost', destPort: 8080 }).reject).toHaveBeenCalled();
  });

  it('a cancel that the dead connection never answers still settles on clear()', async () => {
    const { client, listeners } = setup();
    const l = await listeners.listen({ address: 'localhost', port: 1 }, vi.fn());
    client.unforwardIn = () => {};
    const closing = l.close();
    listeners.clear();
    await expect(closing).resolves.toBeUndefined();
  });
});
