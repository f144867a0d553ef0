import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/cli/context.js';
import { runScpCli } from '../../../src/cli/scp.js';
import { runSftpCli } from '../../../src/cli/sftp.js';
import { logVis, mprintfVis } from '../../../src/cli/terminal-vis.js';
import { silentLogger } from '../../../src/logger.js';
import { itPosix, onWindows } from '../../helpers/posix-only.js';
import { SFTP_SERVER } from '../transfer/sftp-helpers.js';

// Names that are not plain ASCII, printed by sshmux sftp/scp and by OpenSSH's, both on
// OpenSSH's sftp-server run with -D: listings through mprintf, messages through log.c.
let dir: string;
const NAMES = [
  Buffer.from('new\nline'),
  Buffer.from([0x62, 0xff, 0x63]),
  Buffer.from('é'),
  Buffer.from('t\tb'),
  Buffer.from('c\x01d'),
  Buffer.from('back\\slash'),
];
beforeAll(() => {
  // Names with a newline cannot exist on Windows, and the tests that use them skip there.
  if (onWindows) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-sftp-direct-'));
  for (const n of NAMES) {
    const p = Buffer.concat([Buffer.from(`${dir}/`), n]);
    writeFileSync(p, n);
    utimesSync(p, 1_577_934_245, 1_577_934_245);
  }
});
afterAll(() => {
  if (!onWindows) rmSync(dir, { recursive: true, force: true });
});

function context(): { ctx: CliContext; out: () => Buffer; err: () => Buffer } {
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk, _enc, cb) {
        into.push(Buffer.from(chunk));
        cb();
      },
    });
  return {
    ctx: { logger: silentLogger(), stdout: sink(o), stderr: sink(e), verbosity: 0, logJson: false },
    out: () => Buffer.concat(o),
    err: () => Buffer.concat(e),
  };
}

const env = { ...process.env, PATH: `/usr/bin:${process.env.PATH}`, TZ: 'UTC' };

describe('names as OpenSSH prints them', () => {
  itPosix('OpenSSH sftp-server, sftp and scp')(
    'sftp -b: ls -1, ls and ls -l of hostile names as /usr/bin/sftp prints them',
    async () => {
      const batch = path.join(dir, '..', `batch-${path.basename(dir)}`);
      writeFileSync(batch, `cd ${dir}\nls -1\nls\nls -l\nls b*\n-get nothing\n-rm nothing*\n`);
      const tz = process.env.TZ;
      process.env.TZ = 'UTC';
      const ours = context();
      const code = await runSftpCli(['-D', SFTP_SERVER, '-b', batch], ours.ctx);
      process.env.TZ = tz;
      const theirs = spawnSync('sftp', ['-D', SFTP_SERVER, '-b', batch], { env });
      rmSync(batch);
      expect(theirs.status).toBe(0);
      expect(ours.out().toString('latin1')).toBe(theirs.stdout.toString('latin1'));
      expect(ours.err().toString('latin1')).toBe(theirs.stderr.toString('latin1'));
      expect(code).toBe(theirs.status);
    },
  );

  itPosix('OpenSSH sftp-server, sftp and scp')(
    'scp: messages naming such paths, as /usr/bin/scp prints them',
    async () => {
      for (const name of ['back\\slash', 'é', 'c\x01d', 'n\nl']) {
        const argv = ['-D', SFTP_SERVER, `x:/nonexistent/${name}`, path.join(dir, 'out')];
        const ours = context();
        const code = await runScpCli(argv, ours.ctx, false);
        const theirs = spawnSync('scp', argv, { env });
        expect(ours.err().toString('latin1')).toBe(theirs.stderr.toString('latin1'));
        expect(code).toBe(theirs.status);
      }
    },
  );

  itPosix('OpenSSH sftp-server, sftp and scp')(
    'refused lines: the error first, then the echo, in one stream as sftp writes them',
    async () => {
      const batch = path.join(dir, '..', `order-${path.basename(dir)}`);
      writeFileSync(batch, '-get\n-chmod 888 a\n-copy a\n-ls -Z\n-frob\n"\npwd\n-get nothing\n');
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk, _enc, cb) {
          chunks.push(Buffer.from(chunk));
          cb();
        },
      });
      const ctx: CliContext = {
        logger: silentLogger(),
        stdout: sink,
        stderr: sink,
        verbosity: 0,
        logJson: false,
      };
      const code = await runSftpCli(['-D', SFTP_SERVER, '-b', batch], ctx);
      const theirs = spawnSync('sh', ['-c', `sftp -D ${SFTP_SERVER} -b '${batch}' 2>&1`], { env });
      rmSync(batch);
      expect(Buffer.concat(chunks).toString('latin1')).toBe(theirs.stdout.toString('latin1'));
      expect(code).toBe(theirs.status);
    },
  );

  it('logVis and mprintfVis escape as strnvis(VIS_SAFE|VIS_OCTAL) and utf8.c do', () => {
    expect(logVis(`a\\b ${Buffer.from('é').toString('latin1')}\t\x01\xff\n`).toString('latin1')).toBe(
      'a\\\\b \\303\\251\t\\001\\377\n',
    );
    expect(mprintfVis(`${Buffer.from('é').toString('latin1')}\t\x01\xff\n`).toString('utf8')).toBe(
      'é\t\\001\\377\n',
    );
  });
});
