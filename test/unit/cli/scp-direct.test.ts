import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runScpCli } from '../../../src/cli/scp.js';
import { silentLogger } from '../../../src/logger.js';
import { describePosix, onWindows } from '../../helpers/posix-only.js';
import { SFTP_SERVER } from '../transfer/sftp-helpers.js';

// scp -D runs an SFTP server program here: the whole copy path (globs, trees, temporaries,
// messages) runs against OpenSSH's sftp-server, and against /usr/bin/scp -D for comparison.
let dir: string;
beforeAll(() => {
  // Names with a newline cannot exist on Windows, and the tests that use them skip there.
  if (onWindows) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-scp-direct-'));
  const src = Buffer.from(`${dir}/src`);
  mkdirSync(src);
  const names = ['plain', 'with space', 'new\nline', '-dash', '*?[x]'].map((n) => Buffer.from(n));
  names.push(Buffer.from([0xff, 0x41]));
  for (const n of names) writeFileSync(Buffer.concat([src, Buffer.from('/'), n]), n);
  mkdirSync(`${dir}/src/sub`);
  writeFileSync(`${dir}/src/sub/big`, Buffer.alloc(3_000_000, 7));
});
afterAll(() => {
  if (!onWindows) rmSync(dir, { recursive: true, force: true });
});

async function ours(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const sink = (collect: boolean) =>
    new Writable({
      write(chunk, _e, cb) {
        if (collect) stderr += chunk.toString();
        cb();
      },
    });
  const ctx: CliContext = {
    logger: silentLogger(),
    stdout: sink(false),
    stderr: sink(true),
    verbosity: 0,
    logJson: false,
  };
  const code = await runScpCli(['-D', SFTP_SERVER, ...argv], ctx, false);
  return { code, stderr };
}

function theirs(argv: string[]): { code: number | null; stderr: string } {
  const r = spawnSync('scp', ['-D', SFTP_SERVER, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}` },
  });
  return { code: r.status, stderr: r.stderr };
}

function manifest(root: string): string[] {
  const out: string[] = [];
  const walk = (d: Buffer) => {
    for (const n of readdirSync(d, { encoding: 'buffer' })) {
      const p = Buffer.concat([d, Buffer.from('/'), n]);
      const rel = p.subarray(Buffer.from(root).length).toString('hex');
      if (statSync(p).isDirectory()) {
        out.push(`${rel} d`);
        walk(p);
      } else out.push(`${rel} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(Buffer.from(root));
  return out.sort();
}

describePosix('OpenSSH sftp-server and scp')(
  'sshmux scp -D (a local sftp-server) against OpenSSH scp -D',
  () => {
    it('-r both ways copies every name byte for byte, as OpenSSH scp does', async () => {
      expect(await ours(['-r', `${dir}/src`, `x:${dir}/up`])).toEqual({ code: 0, stderr: '' });
      expect(manifest(`${dir}/up`)).toEqual(manifest(`${dir}/src`));
      expect(await ours(['-r', `x:${dir}/up`, `${dir}/down`])).toEqual({ code: 0, stderr: '' });
      expect(manifest(`${dir}/down`)).toEqual(manifest(`${dir}/src`));
      expect(theirs(['-r', `${dir}/src`, `x:${dir}/theirs`]).code).toBe(0);
      expect(manifest(`${dir}/theirs`)).toEqual(manifest(`${dir}/up`));
    });

    it.each([
      ['a missing remote file', () => [`x:${dir}/nothing`, `${dir}/n`]],
      ['a glob matching nothing', () => [`x:${dir}/src/*.none`, `${dir}/n`]],
      ['a remote directory without -r', () => [`x:${dir}/src`, `${dir}/n`]],
      ['a local directory without -r', () => [`${dir}/src`, `x:${dir}/n`]],
    ])('%s: the same messages and exit status', async (_what, argv) => {
      expect(await ours(argv())).toEqual(theirs(argv()));
    });
  },
);
