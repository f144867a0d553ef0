import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { plainHostConfig } from '../../../src/config/plain.js';
import { Connection } from '../../../src/connection/connection.js';
import { AuthError } from '../../../src/errors.js';
import { createAuthProvider } from '../../../src/security/auth.js';

// OpenSSH's sshd never asks for a password change; other servers do (expired passwords).
let server: InstanceType<typeof ssh2.Server>;
let port: number;

beforeAll(async () => {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password') {
        ctx.requestChange('Password expired', () => ctx.reject());
        return;
      }
      ctx.reject(['password']);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server?.close();
});

it('a password change request fails at once with an AuthError that says what to do', async () => {
  const host = plainHostConfig({ host: '127.0.0.1', port, user: 'u', identityFiles: [] });
  const prompter = { ask: async () => 'old-pw', notice: () => {} };
  const c = new Connection(host, {
    hostKeyVerifier: async () => {},
    authProvider: createAuthProvider({ env: {}, prompter }),
    readyTimeoutMs: 10_000,
  });
  const started = Date.now();
  const err = await c.connect().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect((err as AuthError).code).toBe('SSHMUX_ERR_AUTH_PASSWORD_CHANGE');
  expect((err as AuthError).message).toContain('requires a new password ("Password expired")');
  expect((err as AuthError).message).not.toContain('old-pw');
  expect(Date.now() - started).toBeLessThan(5_000);
});
