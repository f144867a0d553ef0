import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/connection/connection.js';
import { createAuthProvider } from '../../src/security/auth.js';
import { createHostKeyVerifier } from '../../src/security/verify-host-key.js';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Regression: the connect deadline ran while a person answered the host-key question or
 * typed a passphrase, so a slow answer failed the connection. The deadline is for the network.
 */
describe('connect deadline', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const verify = createHostKeyVerifier();
  const auth = createAuthProvider();

  it('does not count a slow host-key answer or a slow passphrase against ConnectTimeout', async () => {
    const host = sshd.hostConfig('backup', { connectTimeoutMs: 600 });
    const conn = new Connection(host, {
      hostKeyVerifier: async (key, h) => {
        await sleep(1_500); // a person reading the fingerprint
        await verify(key, h);
      },
      authProvider: async (h) => {
        await sleep(1_500); // a person typing a passphrase
        return auth(h);
      },
    });
    await conn.connect();
    expect(conn.isReady).toBe(true);
    conn.close();
  });

  it('still times out when the server does not answer', async () => {
    await using proxy = await TcpProxy.start({ targetPort: sshd.port });
    proxy.freeze();
    const conn = new Connection(sshd.hostConfig('backup', { port: proxy.port, connectTimeoutMs: 600 }), {
      hostKeyVerifier: verify,
      authProvider: auth,
    });
    const t0 = Date.now();
    const err = await conn.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
