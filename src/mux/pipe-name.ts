import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MuxEndpoint } from './endpoint.js';

// Windows keeps a named pipe's name alive while any instance of it is open: a daemon told to
// stop listening (`-O stop`) with a session still running leaves its name taken but accepting
// nothing, and a connect to it waits (ERROR_PIPE_BUSY, then libuv's 30 s WaitNamedPipe) instead
// of failing. So a name is never reused: each daemon listens on a name of its own
// (`<endpoint's name>-<random>`) and records it in `<dir>/pipe`, which clients read. Stopping
// removes the record (under the daemon lock), so the next client starts a fresh daemon at once.
// Unix sockets are unlinked on close and need none of this: their path is the endpoint's.

/** The file naming the current daemon's pipe (Windows only). */
export function pipeRecordFile(endpoint: MuxEndpoint): string {
  return path.join(endpoint.dir, 'pipe');
}

/**
 * Where a client connects: the Unix socket, or the pipe the current daemon recorded;
 * undefined when no daemon has recorded one (none runs, or the last one stopped listening).
 */
export async function currentSocketPath(endpoint: MuxEndpoint): Promise<string | undefined> {
  if (!endpoint.isNamedPipe) return endpoint.socketPath;
  let name: string;
  try {
    name = (await readFile(pipeRecordFile(endpoint), 'utf8')).trim();
  } catch {
    return undefined;
  }
  // Only a pipe of this endpoint: a record naming anything else is ignored, not followed.
  return name.startsWith(`${endpoint.socketPath}-`) && /^[0-9a-f]{16}$/.test(name.slice(-16))
    ? name
    : undefined;
}

/** A fresh pipe name for a daemon about to listen (the Unix socket path on POSIX). */
export function freshSocketPath(endpoint: MuxEndpoint): string {
  return endpoint.isNamedPipe
    ? `${endpoint.socketPath}-${randomBytes(8).toString('hex')}`
    : endpoint.socketPath;
}

/** Record the pipe a daemon listens on (atomically: a client never reads half a name). Call under the lock. */
export async function recordSocketPath(endpoint: MuxEndpoint, socketPath: string): Promise<void> {
  if (!endpoint.isNamedPipe) return;
  const file = pipeRecordFile(endpoint);
  const tmp = `${file}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, socketPath, { mode: 0o600 });
  // Windows refuses to replace a file another process has open (a client reading it): retry.
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(tmp, file);
      return;
    } catch (err) {
      if (attempt >= 20 || !RETRY_CODES.has((err as NodeJS.ErrnoException).code ?? '')) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
      await sleep(10 + attempt * 5);
    }
  }
}

const RETRY_CODES = new Set(['EPERM', 'EACCES', 'EBUSY']);

/** Remove the record if it still names `socketPath` (never a successor's). Call under the lock. */
export async function forgetSocketPath(endpoint: MuxEndpoint, socketPath: string): Promise<void> {
  if (!endpoint.isNamedPipe) return;
  if ((await currentSocketPath(endpoint)) === socketPath) {
    await unlink(pipeRecordFile(endpoint)).catch(() => {});
  }
}
