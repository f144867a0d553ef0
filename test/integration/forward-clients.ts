import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthClients, Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

/** A client left running (e.g. `-L … target sleep 20`) while the test uses its forwards. */
export interface RunningClient {
  readonly child: ChildProcess;
  /** Exit status and stderr (CRLF made LF) once it ended. */
  readonly done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  stderr(): string;
}

/** Start `client` with `args target command` in a session of its own, as AuthClients.run does. */
export function startClient(
  clients: AuthClients,
  client: 'ssh' | Mode,
  args: string[],
  /** The remote command; undefined for none (-N). */
  command: string | undefined,
): RunningClient {
  const words = command === undefined ? [] : [command];
  const argv =
    client === 'ssh'
      ? ['/usr/bin/ssh', '-F', clients.config, ...args, 'target', ...words]
      : [process.execPath, CLI, 'ssh', '-F', clients.config, ...args, 'target', ...words];
  const env = clients.sandbox.env(client === 'direct' ? { SSHMUX_NO_DAEMON: '1' } : {});
  const child = spawn('setsid', ['-w', ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end();
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err.replace(/\r\n/g, '\n') })),
  );
  return { child, done, stderr: () => err.replace(/\r\n/g, '\n') };
}

/** Wait until something accepts connections on 127.0.0.1:port (or a Unix socket path). */
export async function waitListening(where: number | string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${where}`);
    await sleep(100);
  }
}

/** Connect, send `data` (then EOF), and collect everything until the far side closes. */
export function exchange(
  where: number | string,
  data: Buffer | string,
  options: { end?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    // A reset is a close too: what matters is what arrived before it.
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('connect', () => {
      if (options.end === false) s.write(data);
      else s.end(data);
    });
  });
}

/**
 * An echo server on this host's loopback (the container shares the host's network): each
 * connection gets `echo:` and what it sent, after its EOF (so half-close is exercised).
 */
export async function echoServer(): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
    });
    s.on('end', () => {
      seen.push(got);
      s.end(`echo:${got}`);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, seen };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Stop a running client as a user would (SIGTERM) and wait for it. */
export async function stopClient(c: RunningClient): Promise<void> {
  if (c.child.exitCode === null && c.child.pid !== undefined) {
    try {
      process.kill(-c.child.pid, 'SIGTERM');
    } catch {
      c.child.kill('SIGTERM');
    }
  }
  await c.done;
}

/** Connect and read the first line the far side sends (a server's banner), then hang up. */
export function firstLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const nl = got.indexOf('\n');
      if (nl >= 0) {
        s.destroy();
        resolve(got.slice(0, nl + 1));
      }
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
  });
}
