import { describe, expect, it } from 'vitest';
import { AbortedError, ConfigError } from '../../../src/errors.js';
import type { RemoteRunner } from '../../../src/pool/types.js';
import { download, upload } from '../../../src/transfer/transfer.js';
import { normalizeTransferOptions } from '../../../src/transfer/transfer-options.js';
import { partialSibling, splitPath } from '../../../src/transfer/xfer-context.js';

describe('normalizeTransferOptions', () => {
  it('defaults as rsync -a: preserve on, resume off, links kept', () => {
    const o = normalizeTransferOptions();
    expect(o).toMatchObject({
      preserve: true,
      resume: false,
      symlinks: 'preserve',
      concurrency: 4,
      requests: 64,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('refuses bad values, naming the option and the value', () => {
    expect(() => normalizeTransferOptions({ preserve: 'yes' as never })).toThrow(
      /`preserve` to be a boolean, got `yes` \(string\)/,
    );
    expect(() => normalizeTransferOptions({ concurrency: 0 })).toThrow(/`concurrency`.*got `0` \(number\)/);
    expect(() => normalizeTransferOptions({ symlinks: 'copy' as never })).toThrow(/`symlinks`/);
    expect(() => normalizeTransferOptions({ rateLimit: -1 })).toThrow(/`rateLimit`/);
    expect(() => normalizeTransferOptions({ bufferLength: 10 })).toThrow(/`bufferLength`.*from 64/);
    expect(() => normalizeTransferOptions({ signal: {} as never })).toThrow(/AbortSignal/);
  });

  it('refuses an option it does not know instead of ignoring it', () => {
    expect(() => normalizeTransferOptions({ recursive: true } as never)).toThrow(ConfigError);
    expect(() => normalizeTransferOptions({ recursive: true } as never)).toThrow(/`recursive`/);
  });
});

describe('partialSibling', () => {
  it('is a fixed hidden name next to the file, so a later run finds it', () => {
    expect(partialSibling(Buffer.from('dir/sub/file.bin')).toString()).toBe(
      'dir/sub/.file.bin.sshmux-partial',
    );
    expect(partialSibling(Buffer.from('file')).toString()).toBe('.file.sshmux-partial');
    expect(partialSibling(Buffer.from('/abs')).toString()).toBe('/.abs.sshmux-partial');
  });

  it('keeps any bytes and cuts a long name to NAME_MAX', () => {
    const odd = Buffer.from([0x66, 0xff, 0x0a, 0x2d]);
    expect(partialSibling(odd).subarray(1, 5).equals(odd)).toBe(true);
    const long = partialSibling(Buffer.from(`d/${'x'.repeat(255)}`));
    expect(long.length - 2).toBe(255);
    expect(long.toString().endsWith('.sshmux-partial')).toBe(true);
  });
});

describe('splitPath', () => {
  it('splits off the last component', () => {
    const s = (p: string) => {
      const { dir, base } = splitPath(Buffer.from(p));
      return [dir.toString(), base.toString()];
    };
    expect(s('a/b/c')).toEqual(['a/b', 'c']);
    expect(s('c')).toEqual(['.', 'c']);
    expect(s('/c')).toEqual(['/', 'c']);
  });
});

describe('upload and download before any I/O', () => {
  const untouchable = new Proxy({} as RemoteRunner, {
    get: () => () => {
      throw new Error('the runner must not be used');
    },
  });

  it('an already aborted signal rejects with AbortedError without opening a session', async () => {
    const signal = AbortSignal.abort();
    await expect(download(untouchable, 'h', 'a', '/tmp/never', { signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    await expect(upload(untouchable, 'h', '.', 'a', { signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('a bad option or path is a ConfigError before any I/O', async () => {
    await expect(download(untouchable, 'h', 'a', 'b', { resume: 'yes' as never })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(download(untouchable, 'h', '', 'b')).rejects.toThrow(/`remotePath`/);
    await expect(upload(untouchable, 'h', 42 as never, 'b')).rejects.toThrow(/`localPath`/);
  });
});
