import { describe, expect, it } from 'vitest';
import { parseHostsText } from '../../../src/cli/run-hosts.js';
import { LinePrefixer, resultJson, summaryJson, summaryTable } from '../../../src/cli/run-output.js';
import { NetworkError } from '../../../src/errors.js';
import type { ExecManySummary, HostResult } from '../../../src/pool/exec-many-options.js';

function result(over: Partial<HostResult>): HostResult {
  return {
    host: 'h',
    index: 0,
    status: 'ok',
    exitCode: 0,
    signal: null,
    stdout: Buffer.from(''),
    stderr: Buffer.from(''),
    error: undefined,
    durationMs: 120,
    ...over,
  };
}

describe('LinePrefixer', () => {
  it('writes whole lines with their host, keeps a partial line until it completes or the host ends', () => {
    const out: string[] = [];
    const p = new LinePrefixer((b) => out.push(b.toString()));
    p.push('a', Buffer.from('one\ntw'));
    p.push('b', Buffer.from('x'));
    p.push('a', Buffer.from('o\nthree\n'));
    p.end('b');
    p.end('a');
    expect(out).toEqual(['a: one\n', 'a: two\na: three\n', 'b: x\n']);
  });

  it('passes bytes through untouched (not UTF-8 decoded)', () => {
    const out: Buffer[] = [];
    const p = new LinePrefixer((b) => out.push(b));
    p.push('h', Buffer.from([0xff, 0x0a]));
    expect(Buffer.concat(out)).toEqual(Buffer.concat([Buffer.from('h: '), Buffer.from([0xff, 0x0a])]));
  });
});

describe('summaryTable / JSON', () => {
  const summary: ExecManySummary = {
    total: 3,
    ok: 1,
    failed: 1,
    errors: 1,
    aborted: 0,
    durationMs: 1500,
    peakConnecting: 2,
    results: [
      result({ host: 'web01' }),
      result({ host: 'web02', index: 1, status: 'failed', exitCode: 7 }),
      result({
        host: 'longer-name',
        index: 2,
        status: 'error',
        exitCode: null,
        error: new NetworkError('connect ECONNREFUSED 127.0.0.1:1\nmore'),
      }),
    ],
  };

  it('one aligned row per host, the first line of an error, then the totals', () => {
    expect(summaryTable(summary)).toBe(
      [
        'HOST         STATUS  EXIT  TIME',
        'web01        ok      0     0.12s',
        'web02        failed  7     0.12s',
        'longer-name  error   -     0.12s  connect ECONNREFUSED 127.0.0.1:1',
        '3 hosts: 1 ok, 1 failed, 1 error, 0 aborted in 1.50s',
        '',
      ].join('\n'),
    );
  });

  it('JSON lines carry status, output and the error kind', () => {
    expect(JSON.parse(resultJson(summary.results[2]!))).toMatchObject({
      host: 'longer-name',
      status: 'error',
      exitCode: null,
      error: { kind: 'network', code: 'SSHMUX_ERR_NETWORK' },
    });
    expect(JSON.parse(summaryJson(summary))).toEqual({
      summary: { total: 3, ok: 1, failed: 1, errors: 1, aborted: 0, durationMs: 1500 },
    });
  });
});

describe('parseHostsText', () => {
  it('one destination per line, comments and blank lines skipped, duplicates kept', () => {
    expect(parseHostsText('# web\nweb01\n\n  root@web02:2222  # port\nweb01\n', 'f')).toEqual([
      'web01',
      'root@web02:2222',
      'web01',
    ]);
  });

  it('refuses a line with two words, naming file and line', () => {
    expect(() => parseHostsText('a\nb c\n', 'hosts')).toThrow(/hosts:2: .*`b c`/);
  });
});
