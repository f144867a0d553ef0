import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';

/**
 * Regression: every stream died at the server's first re-key (sshd re-keys after 1 GiB with
 * chacha20, or at RekeyLimit): ssh2 asks the host verifier again and an asynchronous answer
 * during a re-key reset the connection. A 1 MiB RekeyLimit makes sshd re-key many times here.
 */
describe('streams across server re-keys', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd({ sshdOptions: ['RekeyLimit=1M'] });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  for (const cipher of ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com']) {
    it(`uploads and downloads 16 MiB with ${cipher}`, async () => {
      await using pool = sshd.pool();
      const host = sshd.hostConfig('backup', {});
      const withCipher = { ...host, ciphers: [cipher], poolKey: `${host.poolKey}#${cipher}` };
      const size = 16 * 1024 * 1024;
      const data = Buffer.alloc(size, 7);
      const up = await pool.exec(withCipher, 'sha256sum', { stdin: Readable.from([data]), encoding: 'utf8' });
      expect(up.exitCode).toBe(0);
      expect(up.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
      const down = await pool.exec(withCipher, ['head', '-c', String(size), '/dev/zero']);
      expect(down.exitCode).toBe(0);
      expect(down.stdout.length).toBe(size);
      // The same connection carried on: one login for both directions.
      expect(pool.stats().connections).toBe(1);
    });
  }
});
