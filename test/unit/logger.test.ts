import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliLogger } from '../../src/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Log through the CLI logger into a file descriptor and return exactly what was written. */
function capture(opts: { verbosity: number; json?: boolean }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'log');
  const fd = openSync(file, 'w');
  try {
    const log = cliLogger({ ...opts, fd });
    log.child({ host: 'h1', conn: 2 }).debug({ passphrase: 'hunter2', token: 'tok' }, 'connected');
    log.warn('careful');
  } finally {
    closeSync(fd);
  }
  return readFileSync(file, 'utf8');
}

describe('cliLogger', () => {
  it('writes one human line per record with its context at -vv', () => {
    const out = capture({ verbosity: 2 });
    expect(out).toContain('sshmux[debug] host=h1 conn=2');
    expect(out).toContain(': connected');
    expect(out).toContain('sshmux[warn]: careful\n');
  });

  it('hides debug without -v', () => {
    const out = capture({ verbosity: 0 });
    expect(out).not.toContain('connected');
    expect(out).toContain('careful');
  });

  it('redacts secrets in both formats', () => {
    for (const json of [false, true]) {
      const out = capture({ verbosity: 2, json });
      expect(out).not.toContain('hunter2');
      expect(out).not.toContain('tok"');
      expect(out).not.toContain('=tok');
      expect(out).toContain('[redacted]');
    }
  });

  it('keeps child bindings made before the first written message (pino is created lazily)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'log');
    const fd = openSync(file, 'w');
    try {
      const log = cliLogger({ verbosity: 0, fd });
      const child = log.child({ host: 'h1' }).child({ conn: 3 });
      expect(log.isLevelEnabled('debug')).toBe(false);
      expect(log.isLevelEnabled('warn')).toBe(true);
      expect(log.level).toBe('warn');
      child.info('not shown');
      child.warn({ passphrase: 'hunter2' }, 'shown');
      log.error('plain');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe(
      'sshmux[warn] host=h1 conn=3 passphrase=[redacted]: shown\nsshmux[error]: plain\n',
    );
  });

  it('emits JSON lines with --log-json', () => {
    const lines = capture({ verbosity: 2, json: true })
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ host: 'h1', conn: 2, msg: 'connected' });
    expect(lines[1]).toMatchObject({ msg: 'careful' });
  });
});
