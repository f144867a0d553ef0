import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { Connection } from '../../../src/connection/connection.js';
import { NetworkError } from '../../../src/errors.js';

// Regression (fault soak: "uncaught exception: Error: read ECONNRESET"): a transport that fails
// after it connected but before ssh2 took it (authentication material is still being read)
// must fail the connect as a network error, not throw from an 'error' event nobody listens to.
it('a socket reset while authentication material is read fails the connect cleanly', async () => {
  const host = plainHostConfig({ host: '127.0.0.1', port: 22, user: 'u', identityFiles: [] });
  const socket = new PassThrough();
  const c = new Connection(host, {
    hostKeyVerifier: async () => {},
    socketFactory: async () => socket,
    authProvider: async () => {
      socket.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      await new Promise((r) => setTimeout(r, 20));
      return [];
    },
    readyTimeoutMs: 5_000,
  });
  const err = await c.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NetworkError);
  expect((err as Error).message).toContain('ECONNRESET');
});
