import { spawn } from 'node:child_process';
import { SftpClient, type SftpClientOptions } from '../transfer/sftp-client.js';
import type { OpenSftp } from './session-stream.js';

/**
 * scp -D / sftp -D: run an SFTP server program here (its words split on blanks) and talk to it
 * over its stdin and stdout instead of connecting anywhere. `close` returns its exit status.
 */
export async function openDirectServer(command: string, options: SftpClientOptions = {}): Promise<OpenSftp> {
  const [program, ...args] = command.split(/[ \t]+/).filter(Boolean);
  if (program === undefined) throw new Error('No sftp server specified via -D');
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(255));
    child.on('close', (code) => resolve(code ?? 255));
  });
  const client = await SftpClient.start(child.stdout, child.stdin, options);
  return {
    client,
    close: async () => {
      client.end();
      return exited;
    },
  };
}
