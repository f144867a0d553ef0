import { describe, expect, it, vi } from 'vitest';
import { parseForward } from '../../../src/config/forward-spec.js';
import { NetworkError } from '../../../src/errors.js';
import { type ListenFn, REFUSED_CODE, RemoteForwards } from '../../../src/forward/remote-forwards.js';
import { remoteForwardSpec } from '../../../src/forward/remote-spec.js';
import type { RemoteBind } from '../../../src/pool/types.js';

const spec = (s: string) => remoteForwardSpec(parseForward(s, false, true)!);
const refused = () => Object.assign(new Error('refused'), { code: REFUSED_CODE });

/** A server that refuses the ports in `taken`, allocates 50000+ for port 0, and records cancels. */
function fakeServer(taken: number[]) {
  const cancelled: RemoteBind[] = [];
  let next = 50000;
  const listen: ListenFn = async (bind) => {
    if ('port' in bind && taken.includes(bind.port)) throw refused();
    const port = 'port' in bind ? (bind.port === 0 ? next++ : bind.port) : -2;
    return {
      port,
      close: async () => {
        cancelled.push(bind);
      },
    };
  };
  return { listen, cancelled };
}

function log() {
  const lines: string[] = [];
  return {
    lines,
    log: { info: (l: string) => lines.push(`info ${l}`), error: (l: string) => lines.push(`error ${l}`) },
  };
}

describe('RemoteForwards.start', () => {
  it('reports in the order given: allocated ports, warnings for refusals; the session goes on', async () => {
    const { listen } = fakeServer([22]);
    const { lines, log: l } = log();
    const f = await RemoteForwards.start([spec('0:db:5432'), spec('22:h:1'), spec('0:/run/s')], listen, {
      exitOnFailure: false,
      log: l,
    });
    expect(lines).toEqual([
      'info Allocated port 50000 for remote forward to db:5432',
      'info Warning: remote port forwarding failed for listen port 22',
      'info Allocated port 50001 for remote forward to /run/s:-2',
    ]);
    expect(f.listeners.map((x) => x.port)).toEqual([50000, 50001]);
  });

  it("ExitOnForwardFailure: ssh's error (as ssh words it) after cancelling what succeeded", async () => {
    const { listen, cancelled } = fakeServer([22]);
    const { lines, log: l } = log();
    await expect(
      RemoteForwards.start([spec('8080:h:80'), spec('22:h:1')], listen, { exitOnFailure: true, log: l }),
    ).rejects.toThrow(/^Error: remote port forwarding failed for listen port 22$/);
    expect(cancelled).toEqual([{ address: 'localhost', port: 8080 }]);
    expect(lines).toEqual([]);
  });

  it('a failure that is no refusal (no connection) fails the session, not as a forward warning', async () => {
    const close = vi.fn(async () => {});
    const listen: ListenFn = async (bind) => {
      if ('port' in bind && bind.port === 2) throw new NetworkError('connection lost');
      return { port: 1, close };
    };
    const { lines, log: l } = log();
    await expect(
      RemoteForwards.start([spec('1:h:1'), spec('2:h:2')], listen, { exitOnFailure: false, log: l }),
    ).rejects.toThrow('connection lost');
    expect(close).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([]);
  });

  it('close() cancels every forward', async () => {
    const { listen, cancelled } = fakeServer([]);
    const { log: l } = log();
    const f = await RemoteForwards.start([spec('1:h:1'), spec('/tmp/r:/run/l')], listen, {
      exitOnFailure: false,
      log: l,
    });
    await f.close();
    expect(cancelled).toEqual([{ address: 'localhost', port: 1 }, { path: '/tmp/r' }]);
  });
});
