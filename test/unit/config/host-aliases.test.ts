import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostAliases } from '../../../src/config/host-aliases.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-aliases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('hostAliases', () => {
  it('offers Host names without wildcards or negations, Includes followed, each once', () => {
    write('home/.ssh/conf.d/work', 'Host build "quoted alias"\n  HostName b\nHost web\n');
    const file = write(
      'home/.ssh/config',
      'Host web db-? *.example.com !bad\n  User x\nInclude conf.d/work\nMatch host foo\n  Port 2\nHost    jump\n',
    );
    expect(hostAliases({ configFile: file, homeDir: path.join(dir, 'home'), platform: 'linux' })).toEqual([
      'web',
      'build',
      'quoted alias',
      'jump',
    ]);
  });

  it('reads ~/.ssh/config and the system file by default, with relative Includes from ~/.ssh', () => {
    write('h2/.ssh/config', 'Include extra\nHost mine\n');
    write('h2/.ssh/extra', 'Host extra-host\n');
    const got = hostAliases({ homeDir: path.join(dir, 'h2'), platform: 'linux', env: {} });
    expect(got.slice(0, 2)).toEqual(['extra-host', 'mine']);
  });

  it('skips unreadable files and bad lines instead of failing, and reads nothing for `none`', () => {
    const file = write('bad', 'Host ok1\nHost "unterminated\nInclude /nonexistent/*\nHost ok2\n');
    expect(hostAliases({ configFile: file, homeDir: dir, platform: 'linux' })).toEqual(['ok1', 'ok2']);
    expect(hostAliases({ configFile: 'none' })).toEqual([]);
    expect(hostAliases({ configFile: path.join(dir, 'missing') })).toEqual([]);
  });
});
