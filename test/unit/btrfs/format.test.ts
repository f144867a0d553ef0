import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../../src/btrfs/format.js';

describe('format', () => {
  it('prints bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200.0 MiB');
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072.0 TiB');
  });
  it('prints durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(83_000)).toBe('1:23');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});
