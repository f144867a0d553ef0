import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuthClients, Mode } from './auth-clients.js';
import { CLI } from './mux-helpers.js';

/** A local server that answers each line with `got:<line>` (what a forward's target does here). */
export class EchoServer implements AsyncDisposable {
  readonly server: net.Server;
  /** Connections it accepted. */
  accepted = 0;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(where: { path: string } | { port: number } = { port: 0 }): Promise<EchoServer> {
    const server = net.createServer();
    const echo = new EchoServer(server);
    server.on('connection', (sock) => {
      echo.accepted++;
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) sock.end(`got:${buf.slice(0, nl)}\n`);
      });
      sock.on('error', () => {});
    });
    if ('path' in where) rmSync(where.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if ('path' in where) server.listen(where.path, resolve);
      else server.listen(where.port, '127.0.0.1', resolve);
    });
    return echo;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A TCP port nobody listens on right now (the container shares the host's network). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Connect to 127.0.0.1:port, send `line`, return what came back. */
export async function ask(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.on('connect', () => sock.write(`${line}\n`));
    sock.on('data', (d: Buffer) => {
      out += d.toString();
    });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

/** The remote (bash) side of a TCP forward: send `line` to 127.0.0.1:port and print the answer. */
export function remoteAsk(port: number, line = 'hello'): string {
  return `exec 3<>/dev/tcp/127.0.0.1/${port} && echo ${line} >&3 && head -1 <&3`;
}

/** The remote (perl) side of a Unix-socket forward. */
export function remoteAskUnix(path: string, line = 'hello'): string {
  return (
    `perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => "${path}") or die "connect: $!\\n"; ` +
    `print $s "${line}\\n"; print scalar <$s>'`
  );
}

/** A client run that can be watched while it runs (stderr so far, wait for a line). */
export class LiveRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<number | null>;

  constructor(
    clients: AuthClients,
    client: 'ssh' | Mode,
    args: string[],
    command: string,
    extraEnv: Record<string, string> = {},
  ) {
    const argv =
      client === 'ssh'
        ? ['/usr/bin/ssh', '-F', clients.config, ...args, 'target', command]
        : [process.execPath, CLI, 'ssh', '-F', clients.config, ...args, 'target', command];
    const env = clients.sandbox.env({ ...(client === 'direct' && { SSHMUX_NO_DAEMON: '1' }), ...extraEnv });
    this.child = spawn('setsid', ['-w', ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin?.end();
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString().replace(/\r\n/g, '\n');
    });
    this.done = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Wait until stderr matches `re` (or the run ends), polling. */
  async waitFor(re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.done.then(() => {
      ended = true;
    });
    for (;;) {
      const m = re.exec(this.stderr);
      if (m) return m;
      if (ended || Date.now() > deadline)
        throw new Error(`no ${re} in stderr: ${JSON.stringify(this.stderr)}`);
      await sleep(50);
    }
  }
}
