import { spawn } from 'node:child_process';

/** ssh's compiled-in askpass program when SSH_ASKPASS is unset (Debian's path). */
export const DEFAULT_ASKPASS = '/usr/bin/ssh-askpass';
/** ssh reads at most this much of the program's output. */
const MAX_ANSWER = 1023;

/**
 * Run an askpass program as ssh does: the prompt is its only argument, stdin and stderr are
 * ours, the answer is its stdout up to the first line end. A program that cannot start or
 * exits non-zero gives `undefined` (ssh then sends an empty answer).
 */
export function runAskpass(program: string, prompt: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, [prompt], { stdio: ['inherit', 'pipe', 'inherit'] });
    } catch {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout?.on('data', (d: Buffer) => {
      if (size < MAX_ANSWER) chunks.push(d.subarray(0, MAX_ANSWER - size));
      size += d.length;
    });
    child.once('error', () => resolve(undefined));
    child.once('close', (code) => {
      const out = Buffer.concat(chunks).toString('utf8');
      chunks.fill(Buffer.alloc(0));
      if (code !== 0) resolve(undefined);
      else resolve(out.split(/[\r\n]/, 1)[0] ?? '');
    });
  });
}
