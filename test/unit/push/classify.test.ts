import { describe, expect, it } from 'vitest';
import type { UploadContext } from '../../../src/push/upload.js';
import { classifyUploadError } from '../../../src/push/upload.js';

function ctx(signal = new AbortController().signal): UploadContext {
  return { destination: 'u@h:22', signal } as unknown as UploadContext;
}

describe('classifyUploadError', () => {
  it('makes an SFTP status reply a terminal remote error', () => {
    const sftpErr = Object.assign(new Error('Permission denied'), { code: 3 });
    expect(classifyUploadError(sftpErr, ctx(), 'a')).toMatchObject({ kind: 'remote', retryable: false });
  });

  it('makes a vanished local file a terminal local error', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const e = classifyUploadError(enoent, ctx(), 'gone\nfile');
    expect(e).toMatchObject({ kind: 'local', retryable: false });
    expect(e.message).toBe('push gone\\nfile: the local file vanished during the push');
  });

  it('makes a reset connection a retryable network error', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(classifyUploadError(reset, ctx(), 'a')).toMatchObject({ kind: 'network', retryable: true });
  });

  it('reports an abort as aborted whatever the underlying error', () => {
    const ac = new AbortController();
    ac.abort();
    const e = classifyUploadError(new Error('write after end'), ctx(ac.signal), 'a');
    expect(e).toMatchObject({ kind: 'aborted', retryable: false });
  });
});
