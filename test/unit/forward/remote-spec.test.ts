import { describe, expect, it } from 'vitest';
import { parseForward } from '../../../src/config/forward-spec.js';
import {
  allocatedPortLine,
  forwardFailedLine,
  remoteBindAddress,
  remoteForwardSpec,
  remoteForwardsOf,
} from '../../../src/forward/remote-spec.js';

const spec = (s: string) => remoteForwardSpec(parseForward(s, false, true)!);
const printed = (...lines: string[]) => ({ effective: new Map([['remoteforward', lines]]) });

describe('remote forward specifications', () => {
  it('bind addresses as channel_rfwd_bind_host: none is localhost, * and empty are every address', () => {
    expect(remoteBindAddress(undefined)).toBe('localhost');
    expect(remoteBindAddress('*')).toBe('');
    expect(remoteBindAddress('')).toBe('');
    expect(remoteBindAddress('10.0.0.1')).toBe('10.0.0.1');
  });

  it('splits each form into what the server binds and what we connect to', () => {
    expect(spec('8080:db:5432')).toMatchObject({
      bind: { address: 'localhost', port: 8080 },
      target: { host: 'db', port: 5432 },
    });
    expect(spec('*:0:db:5432').bind).toEqual({ address: '', port: 0 });
    expect(spec('8080:/run/app.sock').target).toEqual({ path: '/run/app.sock' });
    expect(spec('/tmp/r.sock:db:80')).toMatchObject({
      bind: { path: '/tmp/r.sock' },
      target: { host: 'db' },
    });
    expect(spec('/tmp/r.sock:/run/l.sock')).toMatchObject({
      bind: { path: '/tmp/r.sock' },
      target: { path: '/run/l.sock' },
    });
  });

  it('reads back the lines ssh -G prints, the remote dynamic form as a SOCKS target', () => {
    const specs = remoteForwardsOf(printed('8080 [db]:5432', '[127.0.0.1]:0 /run/l.sock', '/tmp/r [h]:1'));
    expect(specs.map((s) => s.bind)).toEqual([
      { address: 'localhost', port: 8080 },
      { address: '127.0.0.1', port: 0 },
      { path: '/tmp/r' },
    ]);
    expect(remoteForwardsOf({ effective: new Map() })).toEqual([]);
    const [dynamic] = remoteForwardsOf(printed('[127.0.0.1]:1080 [socks]:0'));
    expect(dynamic).toMatchObject({ bind: { address: '127.0.0.1', port: 1080 }, target: { socks: true } });
    expect(allocatedPortLine(remoteForwardsOf(printed('0 [socks]:0'))[0]!, 5)).toBe(
      'Allocated port 5 for remote forward to socks:0',
    );
  });

  it("words the allocated port and the failures as ssh.c's ssh_confirm_remote_forward", () => {
    expect(allocatedPortLine(spec('0:db:5432'), 41234)).toBe(
      'Allocated port 41234 for remote forward to db:5432',
    );
    expect(allocatedPortLine(spec('0:/run/l.sock'), 4)).toBe(
      'Allocated port 4 for remote forward to /run/l.sock:-2',
    );
    expect(forwardFailedLine(spec('8080:db:1'), false)).toBe(
      'Warning: remote port forwarding failed for listen port 8080',
    );
    expect(forwardFailedLine(spec('/tmp/r:db:1'), true)).toBe(
      'Error: remote port forwarding failed for listen path /tmp/r',
    );
  });
});
