import { describe, expect, it } from 'vitest';
import { closedByRemote, sessionEnd } from '../../../src/cli/session-end.js';
import { NetworkError } from '../../../src/errors.js';
import { DaemonReportedError } from '../../../src/mux/mux-client.js';
import { CONNECTION_LOST } from '../../../src/pool/remote-process.js';

const host = { hostname: 'h.example' } as never;
const pty = { pty: {}, quiet: false, host };
const plain = { pty: false as const, quiet: false, host };

describe('sessionEnd (clientloop.c)', () => {
  it('a remote exit: its status, and the pty line only with a pty and not quiet', () => {
    expect(sessionEnd({ code: 3, signal: null }, pty)).toEqual({
      status: 3,
      message: 'Connection to h.example closed.\r\n',
      abandon: false,
    });
    expect(sessionEnd({ code: 0, signal: null }, plain).message).toBe('');
    expect(sessionEnd({ code: 0, signal: null }, { ...pty, quiet: true }).message).toBe('');
    expect(sessionEnd({ code: null, signal: 'KILL' }, plain).status).toBe(255);
  });

  it('a lost connection: "closed by remote host" even when quiet, 255', () => {
    expect(sessionEnd('lost', pty)).toEqual({
      status: 255,
      message: 'Connection to h.example closed by remote host.\r\nConnection to h.example closed.\r\n',
      abandon: true,
    });
    expect(sessionEnd('lost', { ...plain, quiet: true }).message).toBe(
      'Connection to h.example closed by remote host.\r\n',
    );
  });

  it('~. is 255 with the pty line, ~& is 0 and silent, a signal or EPIPE is 255 and silent', () => {
    expect(sessionEnd('disconnect', pty)).toEqual({
      status: 255,
      message: 'Connection to h.example closed.\r\n',
      abandon: true,
    });
    expect(sessionEnd('background', pty)).toEqual({ status: 0, message: '', abandon: false });
    expect(sessionEnd('SIGTERM', pty)).toEqual({ status: 255, message: '', abandon: true });
    expect(sessionEnd('EPIPE', pty)).toEqual({ status: 255, message: '', abandon: true });
  });
});

describe('closedByRemote', () => {
  it('tells a lost connection by its code, in-process and from the daemon', () => {
    expect(closedByRemote(new NetworkError('x', { code: CONNECTION_LOST }))).toBe(true);
    expect(closedByRemote(new NetworkError('x'))).toBe(false);
    expect(
      closedByRemote(new DaemonReportedError({ kind: 'network', code: CONNECTION_LOST, message: 'x' })),
    ).toBe(true);
    expect(
      closedByRemote(new DaemonReportedError({ kind: 'network', code: 'SSHMUX_ERR_NETWORK', message: 'x' })),
    ).toBe(false);
    expect(closedByRemote(new Error('x'))).toBe(false);
  });
});
