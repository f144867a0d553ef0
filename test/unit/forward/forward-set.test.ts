import { connect, createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Forward } from '../../../src/config/forward-spec.js';
import { parseForward } from '../../../src/config/forward-spec.js';
import { ChannelError } from '../../../src/errors.js';
import { ChannelIds } from '../../../src/forward/channel-ids.js';
import { type ChannelOpener, ForwardSet } from '../../../src/forward/forward-set.js';
import { listenAddresses } from '../../../src/forward/listen-addresses.js';
import type { ChannelTarget } from '../../../src/pool/channel-target.js';

function fwd(spec: string, dynamic = false): Forward {
  const f = parseForward(spec, dynamic, false);
  if (!f) throw new Error(`bad spec ${spec}`);
  return f;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An opener whose channels answer `to <target>: ` and what they got, after EOF; `refused*` hosts refuse. */
function fakeOpener(opened: ChannelTarget[]): ChannelOpener {
  return async (target) => {
    opened.push(target);
    if ('host' in target && target.host.startsWith('refused')) {
      throw new ChannelError('open failed: connect failed: Connection refused', {
        code: 'SSHMUX_ERR_OPEN_FAILED',
      });
    }
    const toTarget = new PassThrough();
    const fromTarget = new PassThrough();
    let got = '';
    toTarget.on('data', (d: Buffer) => {
      got += d.toString();
    });
    let closeIt!: () => void;
    const closed = new Promise<void>((r) => {
      closeIt = r;
    });
    toTarget.on('end', () => {
      fromTarget.end(`to ${'host' in target ? target.host : target.path}: ${got}`);
      setImmediate(closeIt);
    });
    const { Duplex } = await import('node:stream');
    const channel = Duplex.from({ readable: fromTarget, writable: toTarget });
    return { channel, closed, close: closeIt };
  };
}

function talk(port: number, data: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('connect', () => s.end(data));
  });
}

describe('listenAddresses (channel_fwd_bind_addr, client side)', () => {
  it('no address: loopback; with GatewayPorts every address', async () => {
    expect(await listenAddresses(undefined, false, 'any')).toEqual(['::1', '127.0.0.1']);
    expect(await listenAddresses(undefined, true, 'any')).toEqual(['::', '0.0.0.0']);
  });
  it('`*` and empty are every address whatever GatewayPorts says; localhost is loopback in each family', async () => {
    expect(await listenAddresses('*', false, 'any')).toEqual(['::', '0.0.0.0']);
    expect(await listenAddresses('', false, 'any')).toEqual(['::', '0.0.0.0']);
    expect(await listenAddresses('localhost', true, 'any')).toEqual(['::1', '127.0.0.1']);
  });
  it('an explicit address is exactly that one; -4 / -6 keep one family', async () => {
    expect(await listenAddresses('127.0.0.1', true, 'any')).toEqual(['127.0.0.1']);
    expect(await listenAddresses(undefined, false, 'inet')).toEqual(['127.0.0.1']);
    expect(await listenAddresses('*', false, 'inet6')).toEqual(['::']);
    expect(await listenAddresses('127.0.0.1', false, 'inet6')).toEqual([]);
  });
});

describe('ChannelIds (channel_new numbering)', () => {
  it('hands out the lowest free number, reusing freed ones', () => {
    const ids = new ChannelIds();
    expect([ids.take(), ids.take(), ids.take()]).toEqual([0, 1, 2]);
    ids.free(1);
    expect(ids.take()).toBe(1);
    expect(ids.take()).toBe(3);
  });
});

describe('ForwardSet', () => {
  it('relays -L connections, each on a channel of its own; ~# lists them as ssh does', async () => {
    const opened: ChannelTarget[] = [];
    const errors: string[] = [];
    const ids = new ChannelIds();
    const set = new ForwardSet({ open: fakeOpener(opened), error: (l) => errors.push(l), ids });
    const port = await freePort();
    expect(await set.add(fwd(`127.0.0.1:${port}:db.internal:5432`))).toBe(true);
    expect(await Promise.all([talk(port, 'a'), talk(port, 'b')])).toEqual([
      'to db.internal: a',
      'to db.internal: b',
    ]);
    expect(opened).toEqual([
      { host: 'db.internal', port: 5432 },
      { host: 'db.internal', port: 5432 },
    ]);
    expect(errors).toEqual([]);
    expect(set.listConnections([{ id: 1, name: 'client-session', ctype: 'session' }])).toBe(
      'The following connections are open:\r\n  #1 client-session (t4 [session])\r\n',
    );
    set.close();
  });

  it("a taken port prints ssh's two listener lines and fails only that forward", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as { port: number };
    const errors: string[] = [];
    const set = new ForwardSet({ open: fakeOpener([]), error: (l) => errors.push(l), ids: new ChannelIds() });
    const other = await freePort();
    const ok = await set.addAll([fwd(`127.0.0.1:${port}:h:1`), fwd(`127.0.0.1:${other}:h:2`)]);
    expect(ok).toBe(1);
    expect(errors).toEqual([
      `bind [127.0.0.1]:${port}: Address already in use`,
      `channel_setup_fwd_listener_tcpip: cannot listen to port: ${port}`,
    ]);
    expect(await talk(other, 'x')).toBe('to h: x');
    set.close();
    taken.close();
  });

  it('a refused open: "channel N: open failed: …" with the number the connection got, socket closed', async () => {
    const errors: string[] = [];
    const ids = new ChannelIds();
    const set = new ForwardSet({ open: fakeOpener([]), error: (l) => errors.push(l), ids });
    const port = await freePort();
    await set.add(fwd(`127.0.0.1:${port}:refused.example:80`));
    ids.take(); // the session, as ssh numbers it after the listeners
    expect(await talk(port, 'x')).toBe('');
    expect(errors).toEqual(['channel 2: open failed: connect failed: Connection refused']);
    set.close();
  });

  it('-D: a SOCKS4A request opens the named target; garbage is dropped without an open', async () => {
    const opened: ChannelTarget[] = [];
    const set = new ForwardSet({ open: fakeOpener(opened), error: () => {}, ids: new ChannelIds() });
    const port = await freePort();
    await set.add(fwd(`127.0.0.1:${port}`, true));
    const req = Buffer.concat([
      Buffer.from([4, 1, 0, 80, 0, 0, 0, 1, 0]),
      Buffer.from('web.internal\0'),
      Buffer.from('GET'),
    ]);
    const answer = await talk(port, req);
    expect(Buffer.from(answer, 'latin1').subarray(0, 8)).toEqual(Buffer.from([0, 90, 0, 0, 0, 0, 0, 0]));
    expect(answer.slice(8)).toBe('to web.internal: GET');
    expect(await talk(port, 'HELLO')).toBe('');
    expect(opened).toEqual([{ host: 'web.internal', port: 80 }]);
    set.close();
  });

  it('drained() waits for open forwarded connections, as ssh waits before exiting', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const inner = fakeOpener([]);
    const set = new ForwardSet({
      open: async (t, o) => {
        await gate;
        return inner(t, o);
      },
      error: () => {},
      ids: new ChannelIds(),
    });
    const port = await freePort();
    await set.add(fwd(`127.0.0.1:${port}:h:1`));
    const answer = talk(port, 'late');
    await new Promise((r) => setTimeout(r, 50));
    let drained = false;
    const d = set.drained().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toBe(false);
    // An opening channel, listed in channel_open_message's words (t3: SSH_CHANNEL_OPENING).
    const listed = set
      .listConnections()
      .replace(/connect from 127\.0\.0\.1 port \d+ /, 'connect from 127.0.0.1 port N ');
    expect(listed).toBe(
      'The following connections are open:\r\n' +
        `  #1 direct-tcpip: listening port ${port} for h port 1, connect from 127.0.0.1 port N to 127.0.0.1 port ${port} (t3 [direct-tcpip])\r\n`,
    );
    release();
    expect(await answer).toBe('to h: late');
    await d;
    expect(set.connections).toBe(0);
    set.close();
  });
});
