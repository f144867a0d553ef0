import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatRate, formatSize, ScpProgress } from '../../../src/cli/scp-progress.js';

describe("scp's progress meter", () => {
  it('formats sizes and rates as progressmeter.c', () => {
    expect(formatSize(0)).toBe('   0  ');
    expect(formatSize(9999)).toBe('9999  ');
    expect(formatSize(20 * 1024 * 1024)).toBe('  20MB');
    expect(formatRate(0)).toBe('  0.0KB');
    expect(formatRate(1536)).toBe('  1.5KB');
    expect(formatRate(3 * 1024 * 1024)).toBe('  3.0MB');
  });

  it('draws name, percent, bytes, rate and time on one 80-column line, then a newline', () => {
    let out = '';
    const sink = Object.assign(
      new Writable({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        },
      }),
      { columns: 80 },
    );
    let t = 100;
    const meter = new ScpProgress(sink, 'file.bin', 2048, () => t);
    t = 102;
    meter.update(2048);
    meter.finish();
    const lines = out.split('\r').filter(Boolean);
    expect(lines[0]).toBe(`${'file.bin'.padEnd(44)}   0%    0     0.0KB/s   --:-- ETA`);
    expect(lines.at(-1)).toBe(`${'file.bin'.padEnd(44)} 100% 2048     1.0KB/s   00:02    \n`);
  });
});
