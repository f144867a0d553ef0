import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { silentLogger } from '../../../src/logger.js';
import { claim, daemonListen } from '../../../src/mux/client-forward.js';
import { type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { connectDaemon, nextFrame } from '../../../src/mux/mux-client.js';
import { type DaemonRunner, MuxDaemon } from '../../../src/mux/mux-daemon.js';
import { FrameType } from '../../../src/mux/protocol.js';
import type { IncomingConnection, PoolStats, RemoteBind } from '../../../src/pool/types.js';

/** A pool whose listeners the test drives: `offer()` plays the server accepting a connection. */
class ListeningRunner implements DaemonRunner {
  handlers: ((i: IncomingConnection) => void)[] = [];
  binds: RemoteBind[] = [];
  closed = 0;
  async listen(_dest: unknown, bind: RemoteBind, handler: (i: IncomingConnection) => void) {
    this.binds.push(bind);
    this.handlers.push(handler);
    return {
      port: 'port' in bind && bind.port === 0 ? 40123 : -2,
      close: async () => {
        this.closed++;
      },
    };
  }
  /** The server side of one offered connection: `remote` is what the server's peer writes and reads. */
  offer(n = 0): { remote: Duplex; rejected: Promise<boolean> } {
    const toServer = new PassThrough();
    const fromServer = new PassThrough();
    let settle: (rejected: boolean) => void = () => {};
    const rejected = new Promise<boolean>((r) => {
      settle = r;
    });
    this.handlers[n]!({
      originAddress: '10.0.0.9',
      originPort: 5555,
      accept: () => {
        settle(false);
        return Duplex.from({ readable: fromServer, writable: toServer }) as never;
      },
      reject: () => settle(true),
    });
    const remote = Duplex.from({ readable: toServer, writable: fromServer });
    remote.on('error', () => {});
    return { remote, rejected };
  }
  spawn(): Promise<never> {
    throw new Error('not used');
  }
  exec(): Promise<never> {
    throw new Error('not used');
  }
  sftp(): Promise<never> {
    throw new Error('not used');
  }
  stats(): PoolStats {
    return { hosts: 0, connections: 0, openChannels: 0, queued: 0, perHost: [] };
  }
  async close(): Promise<void> {}
  destroy(): void {}
}

const host = { ...plainHostConfig({ host: 'h', user: 'u', port: 22 }) };

describe('remote forwarding through the daemon (fake pool)', () => {
  let dir: string;
  let daemon: MuxDaemon | undefined;
  afterEach(async () => {
    await daemon?.shutdown('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(runner: ListeningRunner): Promise<MuxEndpoint> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-fwd-unit-'));
    const env = {
      platform: process.platform,
      env: { SSHMUX_RUNTIME_DIR: path.join(dir, 'rt') },
      uid: process.getuid?.() ?? -1,
      username: 'me',
      tmpdir: dir,
      homedir: dir,
    };
    const endpoint = selectEndpoint(env);
    prepareEndpoint(endpoint, env);
    daemon = new MuxDaemon({ endpoint, runner, version: '9.9.9', logger: silentLogger() });
    expect(await daemon.start()).toBe('listening');
    return endpoint;
  }

  it('carries an offered connection both ways to the client that holds the listener; closing cancels', async () => {
    const runner = new ListeningRunner();
    const endpoint = await start(runner);
    const connect = () => connectDaemon(endpoint, '9.9.9');
    const offers: Promise<Duplex>[] = [];
    const listener = await daemonListen(connect, host)({ address: 'localhost', port: 0 }, (offer) => {
      offers.push(Promise.resolve(offer.accept()));
    });
    expect(listener.port).toBe(40123);
    expect(runner.binds).toEqual([{ address: 'localhost', port: 0 }]);
    const { remote, rejected } = runner.offer();
    for (let i = 0; i < 100 && offers.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const local = await offers[0]!;
    expect(await rejected).toBe(false);
    local.end('to-server');
    remote.end('to-client');
    const read = async (s: Duplex) => {
      let t = '';
      for await (const c of s) t += c;
      return t;
    };
    expect(await Promise.all([read(remote), read(local)])).toEqual(['to-server', 'to-client']);
    await listener.close();
    expect(runner.closed).toBe(1);
  });

  it('an id is claimable once, only as announced; a refusal counts only from the listener holder', async () => {
    const runner = new ListeningRunner();
    const endpoint = await start(runner);
    const holder = await connectDaemon(endpoint, '9.9.9');
    holder.conn.send({ type: FrameType.Listen, body: { host, bind: { path: '/tmp/r.sock' } } });
    expect((await nextFrame(holder.conn)).type).toBe(FrameType.Listening);
    const first = runner.offer();
    const announced = await nextFrame(holder.conn);
    if (announced.type !== FrameType.Incoming) throw new Error(`got ${announced.type}`);
    expect(announced.body).toMatchObject({ originAddress: '10.0.0.9', originPort: 5555 });
    expect(announced.body.id).toMatch(/^[0-9a-f]{32}$/);
    // Another client cannot refuse it (it is not the holder) nor guess another id.
    const stranger = await connectDaemon(endpoint, '9.9.9');
    stranger.conn.send({ type: FrameType.Open, body: { host, command: 'x', env: {}, pty: false, cwd: '/' } });
    await expect(claim(() => connectDaemon(endpoint, '9.9.9'), 'f'.repeat(32))).rejects.toThrow(
      /no such offered connection/,
    );
    await claim(() => connectDaemon(endpoint, '9.9.9'), announced.body.id);
    expect(await first.rejected).toBe(false);
    await expect(claim(() => connectDaemon(endpoint, '9.9.9'), announced.body.id)).rejects.toThrow(
      /no such offered connection/,
    );
    const second = runner.offer();
    const again = await nextFrame(holder.conn);
    if (again.type !== FrameType.Incoming) throw new Error(`got ${again.type}`);
    holder.conn.send({ type: FrameType.Refuse, body: { id: again.body.id } });
    expect(await second.rejected).toBe(true);
    // The holder goes away: what was offered to it is refused, and the listener cancelled.
    const third = runner.offer();
    await nextFrame(holder.conn);
    holder.conn.destroy();
    expect(await third.rejected).toBe(true);
    for (let i = 0; i < 100 && runner.closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runner.closed).toBe(1);
    stranger.conn.destroy();
  });
});
