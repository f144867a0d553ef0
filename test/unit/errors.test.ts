import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AuthError,
  ChannelError,
  ExecError,
  HostKeyError,
  LocalError,
  NetworkError,
  SshmuxError,
  TimeoutError,
  translateError,
} from '../../src/errors.js';

function sysError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('translateError', () => {
  it('classifies ssh2 errors by level, once, keeping the cause', () => {
    const auth = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    });
    const e = translateError(auth, 'u@h:22');
    expect(e).toBeInstanceOf(AuthError);
    expect(e).toMatchObject({ kind: 'auth', retryable: false, destination: 'u@h:22', cause: auth });
    expect(translateError(Object.assign(new Error('x'), { level: 'client-timeout' }))).toBeInstanceOf(
      TimeoutError,
    );
    expect(translateError(Object.assign(new Error('x'), { level: 'client-socket' }))).toBeInstanceOf(
      NetworkError,
    );
    expect(translateError(Object.assign(new Error('x'), { level: 'protocol' })).retryable).toBe(true);
  });

  it('classifies socket and file-system codes', () => {
    expect(translateError(sysError('ECONNREFUSED'))).toMatchObject({ kind: 'network', retryable: true });
    expect(translateError(sysError('ECONNRESET')).kind).toBe('network');
    expect(translateError(sysError('ETIMEDOUT')).kind).toBe('timeout');
    expect(translateError(sysError('ENOENT'))).toBeInstanceOf(LocalError);
    expect(translateError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBeInstanceOf(
      AbortedError,
    );
  });

  it('keeps a channel refusal reason', () => {
    const e = translateError(Object.assign(new Error('open failed'), { reason: 2 }));
    expect(e).toBeInstanceOf(ChannelError);
    expect((e as ChannelError).reason).toBe(2);
    expect(e.retryable).toBe(true);
  });

  it('returns sshmux errors unchanged', () => {
    const e = new HostKeyError('changed');
    expect(translateError(e)).toBe(e);
  });
});

describe('error family', () => {
  it('has stable codes and terminal kinds', () => {
    expect(new AuthError('x')).toMatchObject({
      code: 'SSHMUX_ERR_AUTH',
      retryable: false,
      name: 'AuthError',
    });
    expect(new HostKeyError('x')).toMatchObject({
      code: 'SSHMUX_ERR_HOST_KEY',
      kind: 'host-key',
      retryable: false,
    });
    expect(new NetworkError('x', { retryable: false }).retryable).toBe(false);
    expect(new TimeoutError('x')).toBeInstanceOf(SshmuxError);
  });

  it('ExecError carries the whole result and a stderr tail', () => {
    const e = new ExecError({
      command: 'false',
      exitCode: 1,
      signal: null,
      stderr: 'a\nb\nboom\n',
      durationMs: 3,
    });
    expect(e).toMatchObject({ kind: 'remote', exitCode: 1, code: 'SSHMUX_ERR_EXEC', command: 'false' });
    expect(e.message).toContain('exited with code 1: false');
    expect(e.message).toContain('boom');
    const killed = new ExecError({
      command: 'sleep 9',
      exitCode: null,
      signal: 'KILL',
      stderr: '',
      durationMs: 1,
    });
    expect(killed.message).toContain('killed by signal KILL');
  });
});
