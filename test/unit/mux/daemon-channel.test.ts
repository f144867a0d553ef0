import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { ChannelError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { openDaemonChannel } from '../../../src/mux/client-channel.js';
import { type MuxEndpoint, prepareEndpoint, selectEndpoint } from '../../../src/mux/endpoint.js';
import { DaemonReportedError } from '../../../src/mux/mux-client.js';
import { type DaemonRunner, MuxDaemon } from '../../../src/mux/mux-daemon.js';
import type { ChannelOrigin, ChannelTarget } from '../../../src/pool/channel-target.js';
import type { PoolStats } from '../../../src/pool/types.js';

/** A pool whose forwarding channels answer `sum:<bytes received>` after EOF; host `refused` is refused. */
class ChannelRunner implements DaemonRunner {
  readonly opened: { target: ChannelTarget; origin: ChannelOrigin | undefined }[] = [];
  closedByClient = 0;
  async openChannel(_dest: unknown, target: ChannelTarget, options: { origin?: ChannelOrigin } = {}) {
    this.opened.push({ target, origin: options.origin });
    if ('host' in target && target.host === 'refused') {
      throw new ChannelError('open failed: connect failed: Connection refused', {
        code: 'SSHMUX_ERR_OPEN_FAILED',
      });
    }
    const toTarget = new PassThrough();
    const fromTarget = new PassThrough();
    let n = 0;
    toTarget.on('data', (d: Buffer) => {
      n += d.length;
    });
    let done!: () => void;
    const closed = new Promise<void>((r) => {
      done = r;
    });
    toTarget.on('end', () => {
      fromTarget.end(`sum:${n}`);
      setImmediate(done);
    });
    const channel = Duplex.from({ readable: fromTarget, writable: toTarget });
    return {
      channel,
      closed,
      close: () => {
        this.closedByClient++;
        fromTarget.end();
        done();
      },
    };
  }
  async spawn(): Promise<never> {
    throw new Error('not used');
  }
  async exec(): Promise<never> {
    throw new Error('not used');
  }
  async sftp(): Promise<never> {
    throw new Error('not used');
  }
  stats(): PoolStats {
    return { hosts: 0, connections: 0, openChannels: 0, queued: 0, perHost: [] };
  }
  async close(): Promise<void> {}
  destroy(): void {}
}

const host = { ...plainHostConfig({ host: 'h', user: 'u', port: 22 }) };

describe('forwarding channels through the daemon (OPEN kind direct)', () => {
  let dir: string;
  let daemon: MuxDaemon | undefined;

  afterEach(async () => {
    await daemon?.shutdown('test over');
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(runner: DaemonRunner): Promise<MuxEndpoint> {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-mux-unit-'));
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

  it('relays 3 MiB each way within the credit window, EOF both ways, target and origin as sent', async () => {
    const runner = new ChannelRunner();
    const endpoint = await start(runner);
    const origin = { address: '127.0.0.1', port: 40000 };
    const fwd = await openDaemonChannel(endpoint, '9.9.9', host, { host: 'db', port: 5432 }, origin);
    expect(runner.opened).toEqual([{ target: { host: 'db', port: 5432 }, origin }]);
    const chunks: Buffer[] = [];
    fwd.channel.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise((r) => fwd.channel.once('end', r));
    fwd.channel.end(Buffer.alloc(3 * 1024 * 1024, 7));
    await ended;
    await fwd.closed;
    expect(Buffer.concat(chunks).toString()).toBe(`sum:${3 * 1024 * 1024}`);
  });

  it('a Unix-socket target travels as { path }', async () => {
    const runner = new ChannelRunner();
    const endpoint = await start(runner);
    const fwd = await openDaemonChannel(
      endpoint,
      '9.9.9',
      host,
      { path: '/run/a.sock' },
      {
        address: '127.0.0.1',
        port: 65535,
      },
    );
    fwd.channel.end('x');
    await fwd.closed;
    expect(runner.opened[0]!.target).toEqual({ path: '/run/a.sock' });
  });

  it("a refused open comes back as the daemon's error, in ssh's words", async () => {
    const endpoint = await start(new ChannelRunner());
    const err = await openDaemonChannel(
      endpoint,
      '9.9.9',
      host,
      { host: 'refused', port: 1 },
      {
        address: '127.0.0.1',
        port: 1,
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonReportedError);
    expect(err).toMatchObject({
      code: 'SSHMUX_ERR_OPEN_FAILED',
      message: 'open failed: connect failed: Connection refused',
    });
  });

  it('the client going away closes the channel on the daemon side', async () => {
    const runner = new ChannelRunner();
    const endpoint = await start(runner);
    const fwd = await openDaemonChannel(
      endpoint,
      '9.9.9',
      host,
      { host: 'db', port: 1 },
      {
        address: '127.0.0.1',
        port: 1,
      },
    );
    fwd.close();
    await fwd.closed;
    for (let i = 0; i < 200 && runner.closedByClient === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(runner.closedByClient).toBe(1);
  });
});
