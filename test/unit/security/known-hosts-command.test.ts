import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, HostKeyError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { runKnownHostsCommand, splitCommandLine } from '../../../src/security/known-hosts-command.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-khc-unit-'));
/** A command line running a node script: an absolute program on every platform, Windows included. */
function script(body: string): string {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `${body}\n`);
  return `${process.execPath} ${file}`;
}
const tokens = { h: 'host.example', p: '22', r: 'root', n: 'alias' };
const query = {
  invocation: 'HOSTNAME',
  hostfileName: 'host.example',
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:x',
  key: Buffer.from('k'),
} as const;
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('splitCommandLine (misc.c argv_split)', () => {
  it('splits on blanks, honours quotes and the escapes argv_split knows', () => {
    expect(splitCommandLine(`/bin/x 'a b' "c d" e\\ f g\\"h \\q`)).toEqual([
      '/bin/x',
      'a b',
      'c d',
      'e f',
      'g"h',
      '\\q',
    ]);
    expect(splitCommandLine('  ')).toEqual([]);
    expect(splitCommandLine(`/bin/x 'open`)).toBeUndefined();
  });
});

describe('runKnownHostsCommand', () => {
  it('expands tokens and environment variables in the arguments only, and reads its stdout as known_hosts lines', async () => {
    const s = script(
      `if (process.argv.slice(2).join('|') !== 'host.example|ssh-ed25519|HOSTNAME|v1|%') process.exit(9);\nconsole.log('host.example ssh-ed25519 ${KEY}');`,
    );
    const entries = await runKnownHostsCommand(
      { command: `${s} %h %t %I \${V} %%`, tokens },
      query,
      silentLogger(),
      { V: 'v1' },
    );
    expect(entries.map((e) => [e.file, e.line, e.hosts, e.keyType])).toEqual([
      ['KnownHostsCommand-HOSTNAME', 1, 'host.example', 'ssh-ed25519'],
    ]);
  });

  it('fails the connection when the command exits non-zero', async () => {
    const s = script('process.exit(4);');
    await expect(runKnownHostsCommand({ command: s, tokens }, query, silentLogger(), {})).rejects.toThrow(
      HostKeyError,
    );
    await expect(runKnownHostsCommand({ command: s, tokens }, query, silentLogger(), {})).rejects.toThrow(
      /exited with status 4/,
    );
  });

  it('contributes nothing for a relative or missing program, as ssh', async () => {
    expect(await runKnownHostsCommand({ command: 'khc %h', tokens }, query, silentLogger(), {})).toEqual([]);
    expect(
      await runKnownHostsCommand({ command: '/nonexistent/khc', tokens }, query, silentLogger(), {}),
    ).toEqual([]);
  });

  it('refuses an unknown token or unset variable', async () => {
    const s = script('');
    await expect(
      runKnownHostsCommand({ command: `${s} %z`, tokens }, query, silentLogger(), {}),
    ).rejects.toThrow(ConfigError);
    await expect(
      runKnownHostsCommand({ command: `${s} \${NOPE}`, tokens }, query, silentLogger(), {}),
    ).rejects.toThrow(ConfigError);
  });
});
