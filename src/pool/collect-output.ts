import { RemoteError } from '../errors.js';
import type { ChannelProcess } from './remote-process.js';
import type { ExecResult } from './types.js';

/** @default 64 MiB */
export const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

/**
 * Capture a process's stdout and stderr up to `maxBuffer` bytes each and wait for its exit.
 * Past the cap the process is killed and the call fails with `kind: remote`.
 */
export async function collectOutput(
  proc: ChannelProcess,
  options: { maxBuffer: number; encoding: 'utf8' | 'buffer'; destination: string; started: number },
): Promise<ExecResult> {
  const capture = (stream: NodeJS.ReadableStream, name: string): Buffer[] => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBuffer) {
        proc.fail(
          new RemoteError(`${name} exceeded maxBuffer (${options.maxBuffer} bytes): ${proc.command}`, {
            destination: options.destination,
            code: 'SSHMUX_ERR_MAX_BUFFER',
          }),
        );
        return;
      }
      chunks.push(chunk);
    });
    return chunks;
  };
  const out = capture(proc.stdout, 'stdout');
  const err = capture(proc.stderr, 'stderr');
  // stderr can finish a moment after the channel's own 'close'.
  const stderrDone = new Promise<void>((resolve) => {
    proc.stderr.once('end', resolve);
    proc.stderr.once('close', resolve);
  });
  const { code, signal } = await proc.exited;
  await stderrDone;
  const stdout = Buffer.concat(out);
  const stderr = Buffer.concat(err);
  return {
    stdout: options.encoding === 'utf8' ? stdout.toString('utf8') : stdout,
    stderr: options.encoding === 'utf8' ? stderr.toString('utf8') : stderr,
    exitCode: code,
    signal,
    durationMs: Date.now() - options.started,
  };
}
