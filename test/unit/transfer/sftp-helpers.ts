import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SftpClient, type SftpClientOptions } from '../../../src/transfer/sftp-client.js';

/** OpenSSH's own server, run over pipes: the client is tested against the real thing, not a mock. */
export const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

export interface LocalSftp extends AsyncDisposable {
  client: SftpClient;
  dir: string;
  server: ChildProcessWithoutNullStreams;
}

export async function startLocalSftp(
  options: SftpClientOptions & { serverArgs?: string[] } = {},
): Promise<LocalSftp> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-sftp-'));
  const server = spawn(SFTP_SERVER, ['-d', dir, ...(options.serverArgs ?? [])], { stdio: 'pipe' });
  const exited = new Promise<void>((resolve) => server.on('close', () => resolve()));
  const client = await SftpClient.start(server.stdout, server.stdin, options);
  return {
    client,
    dir,
    server,
    async [Symbol.asyncDispose]() {
      client.end();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
