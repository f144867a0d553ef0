import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerConfigCommand } from '../../../src/cli/config.js';
import type { CliContext } from '../../../src/cli/context.js';
import { ConfigError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { onWindows } from '../../helpers/posix-only.js';

async function run(args: string[]): Promise<string> {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => {
    out += String(d);
  });
  const ctx = {
    logger: silentLogger(),
    stdout,
    stderr: new PassThrough(),
    verbosity: 0,
    logJson: false,
  } as CliContext;
  const program = new Command('sshmux').exitOverride();
  registerConfigCommand(program, ctx);
  await program.parseAsync(['config', ...args], { from: 'user' });
  return out;
}

describe('sshmux config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-cli-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config');
  writeFileSync(file, 'Host web\n  HostName web.example.org\n  Port 2201\n', { mode: 0o644 });

  it('prints the resolved options like ssh -G, with -o winning over the file', async () => {
    const out = await run(['-F', file, '-o', 'User=ops', '-o', 'Port 2300', 'web']);
    expect(out).toMatch(/^host web\nuser ops\nhostname web.example.org\nport 2300\n/);
  });

  it('reads each -o as ssh -o reads it (a configuration line), as sshmux ssh -G does', async () => {
    const { runSshCli } = await import('../../../src/cli/ssh.js');
    for (const o of ['Ciphers aes128-ctr', 'IdentityFile="/a b"', 'SendEnv=A B', 'ProxyJump a b']) {
      const ours = await run(['-F', 'none', '-o', o, 'h.example']);
      const stdout = new PassThrough();
      let g = '';
      stdout.on('data', (d) => {
        g += String(d);
      });
      const ctx = { logger: silentLogger(), stdout, stderr: new PassThrough(), verbosity: 0, logJson: false };
      expect(await runSshCli(['-G', '-F', 'none', '-o', o, 'h.example'], ctx as CliContext)).toBe(0);
      expect(ours, o).toBe(g);
    }
  });

  it('takes -p, -l and -4', async () => {
    const out = await run(['-F', 'none', '-p', '2022', '-l', 'bob', '-4', 'h.example']);
    expect(out).toContain('user bob\n');
    expect(out).toContain('port 2022\n');
    expect(out).toContain('addressfamily inet\n');
  });

  it('rejects a bad -o and a bad port with a ConfigError', async () => {
    await expect(run(['-F', 'none', '-o', 'Port', 'h'])).rejects.toBeInstanceOf(ConfigError);
    await expect(run(['-F', 'none', '-p', '0', 'h'])).rejects.toBeInstanceOf(ConfigError);
  });

  it('runs Match exec like ssh -G does, unless --no-match-exec', async () => {
    const execFile = path.join(dir, 'exec-config');
    const check = onWindows ? 'if %h==web (exit 0) else (exit 1)' : 'test %h = web';
    writeFileSync(execFile, `Match exec "${check}"\n  User ran\n`, { mode: 0o644 });
    expect(await run(['-F', execFile, 'web'])).toContain('\nuser ran\n');
    expect(await run(['-F', execFile, 'other'])).not.toContain('\nuser ran\n');
    await expect(run(['-F', execFile, '--no-match-exec', 'web'])).rejects.toThrow(/Match exec is disabled/);
  });
});
