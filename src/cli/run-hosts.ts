import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/**
 * Hosts of `sshmux run`: each `-H` value (several may share one, space-separated, as pssh's
 * `-H "a b"`), then each `--hosts-file` line (`[user@]host[:port]` or an alias; `#` starts a
 * comment, blank lines are skipped), in that order. Duplicates are kept: each runs.
 */
export function parseHostsText(text: string, file: string): string[] {
  const hosts: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    if (/\s/.test(line)) {
      throw new ConfigError(`${file}:${i + 1}: expected one destination per line, got \`${line}\``);
    }
    hosts.push(line);
  }
  return hosts;
}

export async function collectHosts(flags: readonly string[], files: readonly string[]): Promise<string[]> {
  const hosts = flags.flatMap((h) => h.split(/\s+/).filter(Boolean));
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f === '-' ? '/dev/stdin' : f, 'utf8');
    } catch (err) {
      throw new ConfigError(`--hosts-file ${f}: ${(err as Error).message}`, { cause: err });
    }
    hosts.push(...parseHostsText(text, f));
  }
  if (hosts.length === 0) throw new ConfigError('sshmux run: no hosts (give -H host or --hosts-file FILE)');
  return hosts;
}
