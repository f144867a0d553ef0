import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LinkCounts, LinkProfile } from '../../test/helpers/link-emulator.js';
import type { StartedSshd } from '../../test/helpers/sshd.js';
import { startChild } from './proc.js';

/** Where the clients connect: the sshd itself (loopback) or the link emulator in front of it. */
export interface Endpoint {
  host: string;
  port: number;
  keyPath: string;
  /** known_hosts naming `[host]:port` of this endpoint with the sshd's host keys. */
  knownHostsFile: string;
}

export function directEndpoint(sshd: StartedSshd): Endpoint {
  return { host: sshd.host, port: sshd.port, keyPath: sshd.keyPath, knownHostsFile: sshd.knownHostsFile };
}

/** The same sshd reached on `port`: its host keys under the name `[host]:port`. */
export function endpointOnPort(sshd: StartedSshd, port: number, dir: string): Endpoint {
  const text = readFileSync(sshd.knownHostsFile, 'utf8')
    .split(sshd.knownHostsName)
    .join(`[${sshd.host}]:${port}`);
  const knownHostsFile = path.join(dir, `known_hosts.${port}`);
  writeFileSync(knownHostsFile, text, { mode: 0o600 });
  return { ...directEndpoint(sshd), port, knownHostsFile };
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '../children/link.ts');

/** test/helpers/link-emulator.ts running in a child process (children/link.ts). */
export class LinkProcess {
  readonly port: number;
  readonly description: string;
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  private constructor(child: ChildProcess, lines: Interface, port: number, description: string) {
    this.#child = child;
    this.#lines = lines;
    this.port = port;
    this.description = description;
    lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  static async start(targetPort: number, profile: LinkProfile): Promise<LinkProcess> {
    const child = startChild(
      process.execPath,
      ['--import', 'tsx', CHILD, JSON.stringify({ targetPort, ...profile })],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`link emulator exited (${code}) before listening`)));
    });
    const { port, profile: description } = JSON.parse(first) as { port: number; profile: string };
    return new LinkProcess(child, lines, port, description);
  }

  /** Bytes carried each way and connections accepted so far. */
  counts(): Promise<LinkCounts> {
    return new Promise((resolve, reject) => {
      if (this.#child.exitCode !== null) {
        reject(new Error('the link emulator process is gone'));
        return;
      }
      this.#waiting.push((line) => {
        const parsed = JSON.parse(line) as LinkCounts & { error?: string };
        if (parsed.error) reject(new Error(parsed.error));
        else resolve(parsed);
      });
      this.#child.stdin!.write('counts\n');
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    this.#lines.close();
  }
}
