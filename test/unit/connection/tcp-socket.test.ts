import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { HostConfig } from '../../../src/config/host-config.js';
import { plainHostConfig } from '../../../src/config/plain.js';
import { connectTcp, type TcpDeps } from '../../../src/connection/tcp-socket.js';
import { ConfigError, NetworkError, TimeoutError } from '../../../src/errors.js';

/** A fake system: records every connect and pause; `outcomes` decides each connect in turn. */
function fakeDeps(
  outcomes: ('ok' | 'refused' | 'hang')[],
  extra: Partial<TcpDeps> = {},
): TcpDeps & {
  connects: net.NetConnectOpts[];
  pauses: number[];
  lookups: [string, number][];
  keepAlive: boolean[];
} {
  const connects: net.NetConnectOpts[] = [];
  const keepAlive: boolean[] = [];
  const pauses: number[] = [];
  const lookups: [string, number][] = [];
  return {
    connects,
    pauses,
    lookups,
    keepAlive,
    lookup: async (host, family) => {
      lookups.push([host, family]);
      return family === 4
        ? [{ address: '192.0.2.1', family: 4 }]
        : [
            { address: '2001:db8::1', family: 6 },
            { address: '192.0.2.1', family: 4 },
          ].filter((a) => family === 0 || a.family === family);
    },
    interfaces: () => ({}),
    pause: async (ms) => {
      pauses.push(ms);
    },
    connect: (options) => {
      connects.push(options);
      const sock = Object.assign(new EventEmitter(), {
        setNoDelay: () => sock,
        setKeepAlive: (on: boolean) => {
          keepAlive.push(on);
          return sock;
        },
        destroy: () => sock,
      }) as unknown as net.Socket;
      const outcome = outcomes[connects.length - 1] ?? 'refused';
      if (outcome === 'ok') setImmediate(() => sock.emit('connect'));
      if (outcome === 'refused')
        setImmediate(() =>
          sock.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
        );
      return sock;
    },
    ...extra,
  };
}

const signal = new AbortController().signal;
const host = (extra: Partial<HostConfig> = {}): HostConfig => ({
  ...plainHostConfig({ host: 'server.example', port: 2200 }),
  ...extra,
});

describe('connectTcp', () => {
  it('sets SO_KEEPALIVE unless TCPKeepAlive is no, as ssh does', async () => {
    const on = fakeDeps(['ok']);
    await connectTcp(host(), signal, on);
    expect(on.keepAlive).toEqual([true]);
    const off = fakeDeps(['ok']);
    await connectTcp(host({ tcpKeepAlive: false }), signal, off);
    expect(off.keepAlive).toEqual([]);
  });

  it('tries every address, ConnectionAttempts times, 1 s apart, then reports the last error', async () => {
    const deps = fakeDeps([]);
    const err = await connectTcp(host({ connectionAttempts: 3 }), signal, deps).catch((e: unknown) => e);
    // In ssh's words (sshconnect.c), the system error kept as the cause.
    expect(err).toMatchObject({ kind: 'network', code: 'SSHMUX_ERR_CONNECT' });
    expect((err as Error).message).toMatch(/^connect to host server\.example port \d+: Connection refused$/);
    expect(((err as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(deps.connects.map((c) => (c as net.TcpNetConnectOpts).host)).toEqual([
      '2001:db8::1',
      '192.0.2.1',
      '2001:db8::1',
      '192.0.2.1',
      '2001:db8::1',
      '192.0.2.1',
    ]);
    expect(deps.pauses).toEqual([1000, 1000]);
  });

  it('stops at the first attempt that connects', async () => {
    const deps = fakeDeps(['refused', 'refused', 'ok']);
    await connectTcp(host({ connectionAttempts: 5 }), signal, deps);
    expect(deps.connects).toHaveLength(3);
    expect(deps.pauses).toEqual([1000]);
  });

  it('resolves with the AddressFamily hint and refuses a literal of the other family, as ssh', async () => {
    const deps = fakeDeps(['ok']);
    await connectTcp(host({ addressFamily: 'inet' }), signal, deps);
    expect(deps.lookups).toEqual([['server.example', 4]]);
    expect((deps.connects[0] as net.TcpNetConnectOpts).family).toBe(4);
    for (const [hostname, addressFamily] of [
      ['127.0.0.1', 'inet6'],
      ['::1', 'inet'],
    ] as const) {
      const err = await connectTcp(host({ hostname, addressFamily }), signal, fakeDeps([])).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NetworkError);
      expect((err as Error).message).toBe(
        `Could not resolve hostname ${hostname}: Address family for hostname not supported`,
      );
    }
  });

  it('binds to BindAddress, and to an address of BindInterface (non-loopback first)', async () => {
    const deps = fakeDeps(['ok', 'ok', 'ok']);
    await connectTcp(host({ bindAddress: '192.0.2.77', addressFamily: 'inet' }), signal, deps);
    expect((deps.connects[0] as net.TcpNetConnectOpts).localAddress).toBe('192.0.2.77');
    const ifs = (): NodeJS.Dict<os.NetworkInterfaceInfo[]> => ({
      eth9: [
        { address: '127.0.0.9', family: 'IPv4', internal: true } as os.NetworkInterfaceInfo,
        { address: '198.51.100.5', family: 'IPv4', internal: false } as os.NetworkInterfaceInfo,
      ],
    });
    const withIfs = fakeDeps(['ok'], { interfaces: ifs });
    await connectTcp(host({ bindInterface: 'eth9', addressFamily: 'inet' }), signal, withIfs);
    expect((withIfs.connects[0] as net.TcpNetConnectOpts).localAddress).toBe('198.51.100.5');
    const none = await connectTcp(
      host({ bindInterface: 'nosuch', addressFamily: 'inet' }),
      signal,
      fakeDeps(['ok']),
    ).catch((e: unknown) => e);
    expect((none as Error).message).toBe('getifaddrs: nosuch: no suitable addresses');
  });

  it('bounds each connect by ConnectTimeout', async () => {
    const deps = fakeDeps(['hang', 'hang']);
    const err = await connectTcp(
      host({ connectTimeoutMs: 50, connectionAttempts: 2, addressFamily: 'inet' }),
      signal,
      deps,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('connect to host server.example port 2200: Connection timed out');
    expect(deps.connects).toHaveLength(2);
  });

  it('refuses ConnectionAttempts below 1', async () => {
    await expect(connectTcp(host({ connectionAttempts: 0 }), signal, fakeDeps([]))).rejects.toThrow(
      ConfigError,
    );
  });
});
