import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalError } from '../errors.js';
import { type KnownHostsEntry, parseKnownHosts } from './known-hosts.js';

/** Read and parse several known_hosts files in order; a missing file is an empty one, as in OpenSSH. */
export async function readKnownHostsFiles(files: readonly string[]): Promise<KnownHostsEntry[]> {
  const all: KnownHostsEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new LocalError(`Cannot read known_hosts file ${file}: ${(err as Error).message}`, { cause: err });
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/**
 * Append whole lines to a known_hosts file with one `O_APPEND` write, so processes appending
 * at the same time never interleave. A missing file is created 0600 (its directory 0700, as
 * `~/.ssh`); an existing file keeps its mode. A file without a final newline gets one first.
 */
export async function appendKnownHostsLines(file: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const fh = await open(file, 'a+', 0o600);
    try {
      const { size } = await fh.stat();
      let prefix = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
      const data = Buffer.from(`${prefix}${lines.join('\n')}\n`);
      // One write of the whole text; a short write on a regular file is an error, not a retry.
      const { bytesWritten } = await fh.write(data, 0, data.length);
      if (bytesWritten !== data.length) {
        throw new Error(`short write (${bytesWritten} of ${data.length} bytes)`);
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new LocalError(`Cannot add a host key to ${file}: ${(err as Error).message}`, { cause: err });
  }
}
