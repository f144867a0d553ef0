import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { SftpStatusError } from '../../../src/errors.js';
import { isDirectory, isRegular, isSymlink } from '../../../src/transfer/sftp-attrs.js';
import { OpenFlag, Status } from '../../../src/transfer/sftp-client.js';
import { statvfs } from '../../../src/transfer/sftp-extensions.js';
import { downloadTo, uploadFrom } from '../../../src/transfer/sftp-transfer.js';
import { describePosix } from '../../helpers/posix-only.js';
import { startLocalSftp } from './sftp-helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// A name that is not UTF-8 (0xff, 0xfe) with a newline and a space: ssh2's SFTPWrapper cannot round-trip it.
const HOSTILE = Buffer.concat([Buffer.from('bad \n'), Buffer.from([0xff, 0xfe]), Buffer.from('-name')]);

describePosix('OpenSSH sftp-server')('SftpClient against OpenSSH sftp-server', () => {
  it('negotiates version 3 with the OpenSSH extensions and takes its buffer sizes from limits@openssh.com', async () => {
    await using s = await startLocalSftp();
    for (const ext of [
      'posix-rename@openssh.com',
      'statvfs@openssh.com',
      'hardlink@openssh.com',
      'fsync@openssh.com',
      'limits@openssh.com',
    ]) {
      expect(s.client.has(ext), ext).toBe(true);
    }
    // sftp-server offers 256 KiB; the client stays 1 KiB below sftp-client.c's message limit.
    expect(s.client.readLength).toBe(255 * 1024);
    expect(s.client.writeLength).toBe(255 * 1024);
  });

  it('writes, lists and reads back a file whose name is not UTF-8, byte for byte', async () => {
    await using s = await startLocalSftp();
    const remote = Buffer.concat([Buffer.from(`${s.dir}/`), HOSTILE]);
    const h = await s.client.open(remote, OpenFlag.Write | OpenFlag.Creat | OpenFlag.Trunc, { mode: 0o640 });
    await s.client.write(h, remote, 0, Buffer.from('hello'));
    await s.client.close(h, remote);
    const names = (await s.client.readdir(s.dir)).map((e) => e.filename);
    expect(names.some((n) => n.equals(HOSTILE))).toBe(true);
    expect(readFileSync(Buffer.concat([Buffer.from(`${s.dir}/`), HOSTILE])).toString()).toBe('hello');
    const attrs = await s.client.stat(remote);
    expect(isRegular(attrs)).toBe(true);
    expect(attrs.size).toBe(5n);
    expect((attrs.mode ?? 0) & 0o777).toBe(0o640);
  });

  it('copies 5 MiB both ways with many requests in flight and short reads at the end', async () => {
    await using s = await startLocalSftp({ bufferLength: 40_000, requests: 16 });
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const src = path.join(s.dir, 'src.bin');
    writeFileSync(src, data);
    const up = path.join(s.dir, 'up.bin');
    const local = await open(src, 'r');
    const h = await s.client.open(up, OpenFlag.Write | OpenFlag.Creat | OpenFlag.Trunc);
    expect(await uploadFrom(s.client, h, up, local)).toBe(data.length);
    await s.client.close(h, up);
    await local.close();
    expect(sha(readFileSync(up))).toBe(sha(data));

    const down = path.join(s.dir, 'down.bin');
    const out = await open(down, 'w');
    const rh = await s.client.open(src, OpenFlag.Read);
    const seen: number[] = [];
    expect(await downloadTo(s.client, rh, src, out, { onProgress: (n) => seen.push(n) })).toBe(data.length);
    await s.client.close(rh, src);
    await out.close();
    expect(sha(readFileSync(down))).toBe(sha(data));
    expect(seen.at(-1)).toBe(data.length);
  });

  it('downloads an empty file as an empty file', async () => {
    await using s = await startLocalSftp();
    writeFileSync(path.join(s.dir, 'empty'), '');
    const out = await open(path.join(s.dir, 'copy'), 'w');
    const h = await s.client.open(path.join(s.dir, 'empty'), OpenFlag.Read);
    expect(await downloadTo(s.client, h, 'empty', out)).toBe(0);
    await out.close();
    expect(statSync(path.join(s.dir, 'copy')).size).toBe(0);
  });

  it('maps STATUS codes to errors that name the path', async () => {
    await using s = await startLocalSftp();
    const missing = path.join(s.dir, 'no such');
    const err = await s.client.stat(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SftpStatusError);
    expect((err as SftpStatusError).status).toBe(Status.NoSuchFile);
    expect((err as Error).message).toBe(`${missing}: No such file or directory`);
    await s.client.mkdir(path.join(s.dir, 'd'));
    const again = await s.client.mkdir(path.join(s.dir, 'd')).catch((e: unknown) => e);
    expect((again as SftpStatusError).status).toBe(Status.Failure);
  });

  it('renames (plain refuses to replace, posix-rename replaces), links, and removes', async () => {
    await using s = await startLocalSftp();
    const a = path.join(s.dir, 'a');
    const b = path.join(s.dir, 'b');
    writeFileSync(a, 'A');
    writeFileSync(b, 'B');
    await expect(s.client.rename(a, b)).rejects.toBeInstanceOf(SftpStatusError);
    await s.client.rename(a, b, true);
    expect(readFileSync(b, 'utf8')).toBe('A');
    expect(existsSync(a)).toBe(false);

    await s.client.symlink('b', path.join(s.dir, 'link'));
    expect(readlinkSync(path.join(s.dir, 'link'))).toBe('b');
    expect((await s.client.readlink(path.join(s.dir, 'link'))).toString()).toBe('b');
    expect(isSymlink(await s.client.lstat(path.join(s.dir, 'link')))).toBe(true);
    expect(isRegular(await s.client.stat(path.join(s.dir, 'link')))).toBe(true);

    await s.client.hardlink(b, path.join(s.dir, 'hard'));
    expect(statSync(path.join(s.dir, 'hard')).ino).toBe(statSync(b).ino);

    await s.client.mkdir(path.join(s.dir, 'sub'), { mode: 0o700 });
    expect(isDirectory(await s.client.stat(path.join(s.dir, 'sub')))).toBe(true);
    await s.client.rmdir(path.join(s.dir, 'sub'));
    await s.client.remove(path.join(s.dir, 'hard'));
    expect(existsSync(path.join(s.dir, 'sub')) || existsSync(path.join(s.dir, 'hard'))).toBe(false);
    symlinkSync('nowhere', path.join(s.dir, 'dangling'));
    expect(lstatSync(path.join(s.dir, 'dangling')).isSymbolicLink()).toBe(true);
  });

  it('sets times and modes, fsyncs, answers statvfs and resolves paths', async () => {
    await using s = await startLocalSftp();
    const f = path.join(s.dir, 'f');
    writeFileSync(f, 'x');
    await s.client.setstat(f, { mode: 0o600, atime: 1_000_000_000, mtime: 1_234_567_890 });
    expect(statSync(f).mtimeMs).toBe(1_234_567_890_000);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const h = await s.client.open(f, OpenFlag.Write);
    await s.client.fsync(h, f);
    await s.client.fsetstat(h, f, { mode: 0o644 });
    expect((await s.client.fstat(h, f)).mode! & 0o777).toBe(0o644);
    await s.client.close(h, f);
    const vfs = await statvfs(s.client, s.dir);
    expect(vfs.blocks > 0n && vfs.frsize > 0n).toBe(true);
    expect((await s.client.realpath('.')).toString()).toBe(s.dir);
    expect((await s.client.expandPath('f')).toString()).toBe(f);
  });

  it('fails every waiting request when the server goes away', async () => {
    const s = await startLocalSftp();
    const pending = s.client.stat(s.dir).then(() => s.client.readdir(s.dir));
    s.server.kill('SIGKILL');
    await expect(pending.then(() => s.client.stat(s.dir))).rejects.toThrow(
      /SFTP server went away|EPIPE|closed/,
    );
    await s[Symbol.asyncDispose]();
  });
});
