import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { type UploadContext, type UploadJob, uploadSftp } from '../../../src/push/upload.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Cb = (err?: Error | null, value?: unknown) => void;

/** An SFTP server in memory that answers each request on a later turn, recording writes in flight. */
class FakeSftp extends EventEmitter {
  files = new Map<string, Buffer>();
  handles = new Map<string, string>();
  inFlight = 0;
  maxInFlight = 0;
  _maxWriteLen = 32 * 1024;
  #later(cb: Cb, value?: unknown, err?: Error): void {
    setTimeout(() => cb(err ?? null, value), 1);
  }
  open(p: string, _flags: string, _attrs: object, cb: Cb): void {
    const h = Buffer.from(String(this.handles.size));
    this.handles.set(h.toString(), p);
    this.files.set(p, Buffer.alloc(0));
    this.#later(cb, h);
  }
  /**
   * WRITEs are answered in batches: only once 64 are outstanding, or after 200 ms without a new
   * one (so a client that waits for each answer still finishes, with 1 in flight).
   */
  #held: (() => void)[] = [];
  #idle: NodeJS.Timeout | undefined;
  #release(): void {
    clearTimeout(this.#idle);
    for (const answer of this.#held.splice(0)) answer();
  }
  write(h: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: Cb): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const name = this.handles.get(h.toString())!;
    const data = Buffer.from(buf.subarray(off, off + len));
    this.#held.push(() => {
      const old = this.files.get(name)!;
      const grown = Buffer.alloc(Math.max(old.length, pos + len));
      old.copy(grown);
      data.copy(grown, pos);
      this.files.set(name, grown);
      this.inFlight--;
      cb(null);
    });
    clearTimeout(this.#idle);
    if (this.#held.length >= 64) setImmediate(() => this.#release());
    else this.#idle = setTimeout(() => this.#release(), 200);
  }
  close(_h: Buffer, cb: Cb): void {
    this.#later(cb);
  }
  setstat(_p: string, _a: object, cb: Cb): void {
    this.#later(cb);
  }
  ext_openssh_rename(from: string, to: string, cb: Cb): void {
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
    this.#later(cb);
  }
}

describe('uploadSftp', () => {
  it('keeps many WRITE requests in flight (at most 64) and writes every byte in place', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-up-'));
    dirs.push(dir);
    const local = path.join(dir, 'big');
    const content = randomBytes(5 * 1024 * 1024 + 123);
    writeFileSync(local, content);
    const st = statSync(local);
    const job: UploadJob = {
      rel: 'big',
      localPath: Buffer.from(local),
      remotePath: 'dst/big',
      remoteTmp: 'dst/.big.sshmux-partial',
      relTmp: '.big.sshmux-partial',
      file: { size: st.size, mtime: Math.floor(st.mtimeMs / 1000), mode: st.mode & 0o7777 },
      start: 0,
    };
    let acknowledged = 0;
    const ctx = {
      destination: 'u@h:22',
      limiter: undefined,
      signal: new AbortController().signal,
      onBytes: (n: number) => {
        acknowledged += n;
      },
    } as unknown as UploadContext;
    const sftp = new FakeSftp();
    await uploadSftp(sftp as unknown as SFTPWrapper, job, ctx);
    expect(sftp.files.get('dst/big')?.equals(content)).toBe(true);
    expect(acknowledged).toBe(content.length);
    // 64 unless the machine stalled the reads for 200 ms; never more than 64.
    expect(sftp.maxInFlight).toBeGreaterThanOrEqual(32);
    expect(sftp.maxInFlight).toBeLessThanOrEqual(64);
    expect(sftp.listenerCount('close')).toBe(0);
  });
});
