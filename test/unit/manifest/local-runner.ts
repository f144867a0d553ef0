import { spawn } from 'node:child_process';
import type { RemoteProcess, RemoteRunner } from '../../../src/pool/types.js';

/**
 * A RemoteRunner that runs "remote" commands with the local `sh`, optionally as another
 * user: it exercises the real remote scripts (GNU find, sha256sum) without Docker.
 */
export function localRunner(options: { uid?: number; gid?: number; cwd?: string } = {}): RemoteRunner {
  const start = (command: readonly string[] | string): RemoteProcess => {
    if (typeof command !== 'string') throw new TypeError('localRunner takes command strings only');
    const child = spawn('sh', ['-c', command], {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: options.cwd ?? '/',
      ...(options.uid !== undefined && { uid: options.uid }),
      ...(options.gid !== undefined && { gid: options.gid }),
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited: new Promise((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal: signal?.replace(/^SIG/, '') ?? null }));
      }),
      kill: (signal = 'TERM') => child.kill(`SIG${signal}` as NodeJS.Signals),
      resize: () => {
        // A local pipe has no terminal to resize.
      },
      hangUp: () => {
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
      },
    };
  };
  return {
    async spawn(_dest, command) {
      return start(command);
    },
    async exec(_dest, command, options = {}) {
      const p = start(command);
      if (
        options.stdin !== undefined &&
        typeof options.stdin !== 'string' &&
        !Buffer.isBuffer(options.stdin)
      ) {
        throw new TypeError('localRunner takes Buffer or string stdin only');
      }
      p.stdin.on('error', () => {}); // the command may exit without reading it all
      p.stdin.end(options.stdin ?? '');
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      p.stdout.on('data', (d: Buffer) => out.push(d));
      p.stderr.on('data', (d: Buffer) => err.push(d));
      const t0 = Date.now();
      const { code, signal } = await p.exited;
      return {
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        exitCode: code,
        signal,
        durationMs: Date.now() - t0,
      };
    },
    async sftp() {
      throw new Error('localRunner has no SFTP');
    },
  };
}
