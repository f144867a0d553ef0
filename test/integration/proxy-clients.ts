import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, type CliResult, runProgram } from '../helpers/cli.js';

/** Which client a differential case runs: ours (the built CLI) or OpenSSH's. */
export type Client = 'sshmux' | 'openssh';
export const CLIENTS: readonly Client[] = ['openssh', 'sshmux'];

/** Run `sshmux ssh ARGS` or `/usr/bin/ssh ARGS` with the same environment and working directory. */
export async function runClient(
  client: Client,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const [file, argv] =
    client === 'sshmux' ? [process.execPath, [CLI, 'ssh', ...args]] : ['/usr/bin/ssh', args];
  const r = await runProgram(file, argv, options);
  return { ...r, ms: Date.now() - started };
}

/**
 * A ProxyCommand that needs no OpenSSH and no nc: node bridging its stdio to a TCP socket.
 * It writes its pid to PIDFILE so a test can check it is gone afterwards.
 */
export const BRIDGE = `
import net from 'node:net';
import { writeFileSync } from 'node:fs';
const [host, port, pidFile] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
const sock = net.connect({ host, port: Number(port) });
process.stdin.pipe(sock);
sock.pipe(process.stdout);
sock.on('error', (e) => { process.stderr.write('bridge: ' + e.message + '\\n'); process.exit(1); });
sock.on('close', () => process.exit(0));
`;

export function writeBridge(dir: string): string {
  const file = path.join(dir, 'bridge.mjs');
  writeFileSync(file, BRIDGE);
  return file;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid a proxy wrote, once it is no longer running (or the pid, if it outlives the wait). */
export async function pidGone(pidFile: string): Promise<{ pid: number; gone: boolean }> {
  for (let i = 0; i < 20 && !existsSync(pidFile); i++) await sleep(50);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
  return { pid, gone: !alive(pid) };
}
