import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runSshCli } from '../../../src/cli/ssh.js';
import { silentLogger } from '../../../src/logger.js';

async function run(argv: string[]): Promise<{ status: number; stderr: string; stdout: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += String(d);
  });
  err.on('data', (d) => {
    stderr += String(d);
  });
  const ctx: CliContext = { logger: silentLogger(), stdout: out, stderr: err, verbosity: 0, logJson: false };
  const status = await runSshCli(argv, ctx, { stdinIsTty: false });
  return { status, stderr, stdout };
}

describe('flags that only -G can print', () => {
  it.each([['-Y'], ['-X'], ['-M'], ['-K']])(
    '%s is refused when connecting, naming the flag, exit 255',
    async (...flag) => {
      const r = await run(['-F', '/dev/null', ...flag, 'h', 'true']);
      expect(r.status).toBe(255);
      expect(r.stderr).toContain(`option ${flag[0]} is not supported by sshmux when connecting`);
      expect(r.stdout).toBe('');
    },
  );

  it('is printed with -G', async () => {
    const r = await run(['-G', '-F', '/dev/null', '-L', '8080:h:80', 'h', 'true']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\nlocalforward 8080 [h]:80\n');
  });
});

describe('keywords sshmux cannot honour yet', () => {
  it('refuses an effective one before connecting, exit 255, and prints it with -G', async () => {
    const r = await run(['-F', '/dev/null', '-o', 'ForwardX11=yes', 'h', 'true']);
    expect(r.status).toBe(255);
    expect(r.stderr).toBe(
      "sshmux: ForwardX11 yes is not supported by sshmux (X11 forwarding); remove it or use OpenSSH's ssh\n",
    );
    const g = await run(['-G', '-F', '/dev/null', '-o', 'ForwardX11=yes', 'h']);
    expect(g.status).toBe(0);
    expect(g.stdout).toContain('\nforwardx11 yes\n');
  });
});
