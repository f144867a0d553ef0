import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import type { HostConfig } from '../../../src/config/host-config.js';
import { ChannelError, NetworkError, type SshmuxError } from '../../../src/errors.js';
import type { ConnectionFactory, PoolConnection } from '../../../src/pool/options.js';

/** A session channel whose end the test decides: `finish(code)`, or the server closing it. */
export class FakeChannel extends Duplex {
  readonly stderr = new PassThrough();
  readonly command: string;
  readonly signals: string[] = [];
  readonly input: Buffer[] = [];
  #closed = false;
  readonly #onClose: () => void;

  constructor(command: string, onClose: () => void) {
    super();
    this.command = command;
    this.#onClose = onClose;
    // What ChannelProcess reads to send a signal after stdin EOF (see remote-process.ts).
    Object.assign(this, {
      outgoing: { state: 'open', id: 0 },
      _client: { _protocol: { signal: (_id: number, name: string) => this.#signal(name) } },
    });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.input.push(chunk);
    cb();
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** The remote process exits: exit status, EOF on both streams, then the server's CLOSE. */
  finish(code: number | null, signal?: string, stdout = '', stderr = ''): void {
    if (this.#closed) return;
    if (stdout) this.push(stdout);
    if (stderr) this.stderr.write(stderr);
    this.emit('exit', code, signal);
    this.#serverClose(code, signal);
  }

  /** Only the exit status, without the CLOSE: OpenSSH still counts the session. */
  exitOnly(code: number): void {
    this.emit('exit', code);
  }

  /** The transport died under the channel: ssh2 closes it without a CLOSE of its own. */
  lose(): void {
    this.#serverClose(undefined, undefined, true);
  }

  /** The server's CLOSE, with the exit status ssh2 repeats on 'close', but no 'exit' event now. */
  closeWithStatus(code: number | null, signal?: string): void {
    this.#serverClose(code, signal);
  }

  #signal(name: string): void {
    this.signals.push(name);
  }

  close(): void {
    // The server honours a signal and then closes; without one a command would keep running.
    if (this.signals.length > 0) this.finish(null, this.signals.at(-1));
  }

  #serverClose(code?: number | null, signal?: string, dead = false): void {
    if (this.#closed) return;
    this.#closed = true;
    // ssh2 answers the server's CLOSE with its own; a dead connection leaves our side as it was.
    if (!dead) (this as unknown as { outgoing: { state: string } }).outgoing.state = 'closed';
    this.push(null);
    this.stderr.end();
    this.once('end', () => {
      this.#onClose();
      // ssh2 repeats the exit status on 'close'.
      if (code === null) this.emit('close', code, signal);
      else this.emit('close', code);
    });
    this.resume();
  }
}

/** An SFTP session: `end()` asks the server to close; the server answers on the next tick. */
export class FakeSftp extends EventEmitter {
  closed = false;
  end(): void {
    setImmediate(() => this.lose());
  }
  lose(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

let nextId = 1;

export interface FakeServer {
  /** Sessions a connection may have open (OpenSSH MaxSessions). */
  maxSessions: number;
  /** What the next connect does: undefined resolves at once; a function decides. */
  connect?: (conn: FakeConnection) => Promise<void>;
  /** Refuse this many channel opens (reason 2) before honouring maxSessions, as sshd does right after a burst. */
  refuseNext?: number;
}

export class FakeConnection implements PoolConnection {
  readonly id = nextId++;
  capacity: number;
  active = 0;
  idleSince = Date.now();
  readonly host: HostConfig;
  readonly channels: FakeChannel[] = [];
  refed = false;
  closedBy: 'close' | 'destroy' | 'died' | undefined;
  #state: 'new' | 'connecting' | 'ready' | 'closed' = 'new';
  #listeners: ((err: SshmuxError | undefined) => void)[] = [];
  #err: SshmuxError | undefined;
  #opening = 0;
  readonly #server: FakeServer;

  constructor(host: HostConfig, capacity: number, server: FakeServer) {
    this.host = host;
    this.capacity = capacity;
    this.#server = server;
  }

  get isReady(): boolean {
    return this.#state === 'ready';
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** Channels the server holds open right now. */
  get serverSessions(): number {
    return this.channels.filter((c) => !c.isClosed).length;
  }

  get closeError(): SshmuxError | undefined {
    return this.#state === 'closed' ? this.#err : undefined;
  }

  async connect(): Promise<void> {
    this.#state = 'connecting';
    try {
      await this.#server.connect?.(this);
    } catch (err) {
      this.#state = 'closed';
      throw err;
    }
    this.#state = 'ready';
  }

  onClosed(listener: (err: SshmuxError | undefined) => void): void {
    if (this.#state === 'closed') listener(this.#err);
    else this.#listeners.push(listener);
  }

  unrefIfIdle(): void {
    this.refed = this.active > 0;
  }

  exec(command: string): Promise<ClientChannel> {
    if (!this.isReady) return Promise.reject(this.#err ?? new NetworkError('closed'));
    if ((this.#server.refuseNext ?? 0) > 0) {
      this.#server.refuseNext!--;
      return Promise.reject(new ChannelError('open failed', { reason: 2 }));
    }
    if (this.serverSessions + this.#opening >= this.#server.maxSessions) {
      return Promise.reject(new ChannelError('open failed', { reason: 1 }));
    }
    this.#opening++;
    // Registered with the open confirmation, as a server would: a test cannot finish it earlier.
    return new Promise((resolve) =>
      setImmediate(() => {
        this.#opening--;
        const ch = new FakeChannel(command, () => {});
        this.channels.push(ch);
        resolve(ch as unknown as ClientChannel);
      }),
    );
  }

  readonly sftps: FakeSftp[] = [];
  /** Forwarding targets opened, in order; a target named `refused` is refused as sshd does. */
  readonly forwards: string[] = [];

  forwardOut(host: string, port: number): Promise<ClientChannel> {
    return this.#forward(`${host}:${port}`);
  }

  forwardOutStreamLocal(path: string): Promise<ClientChannel> {
    return this.#forward(path);
  }

  #forward(target: string): Promise<ClientChannel> {
    if (!this.isReady) return Promise.reject(this.#err ?? new NetworkError('closed'));
    this.forwards.push(target);
    if (target.startsWith('refused')) {
      const cause = Object.assign(new Error('(SSH) Channel open failure: Connection refused'), { reason: 2 });
      return Promise.reject(new ChannelError('open failed', { reason: 2, cause }));
    }
    return new Promise((resolve) =>
      setImmediate(() => {
        const ch = new FakeChannel(`forward ${target}`, () => {});
        this.channels.push(ch);
        resolve(ch as unknown as ClientChannel);
      }),
    );
  }

  /** The fake server runs shells and subsystems as the command of that name. */
  shell(): Promise<ClientChannel> {
    return this.exec('shell');
  }

  subsystem(name: string): Promise<ClientChannel> {
    return this.exec(name);
  }

  sftp(): Promise<SFTPWrapper> {
    if (!this.isReady) return Promise.reject(this.#err ?? new NetworkError('closed'));
    const s = new FakeSftp();
    this.sftps.push(s);
    return new Promise((resolve) => setImmediate(() => resolve(s as unknown as SFTPWrapper)));
  }

  close(): void {
    this.#die('close', undefined);
  }

  destroy(err?: SshmuxError): void {
    this.#die('destroy', err);
  }

  /** The peer vanished (keepalive timeout). */
  die(err = new NetworkError('Server not responding')): void {
    this.#die('died', err);
  }

  #die(how: 'close' | 'destroy' | 'died', err: SshmuxError | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.closedBy = how;
    this.#err = err;
    const listeners = this.#listeners.splice(0);
    for (const l of listeners) l(err);
    for (const ch of this.channels) ch.lose();
    for (const s of this.sftps) s.lose();
  }
}

/** A factory recording every connection it made, against one fake server. */
export function fakeFactory(server: FakeServer): { factory: ConnectionFactory; made: FakeConnection[] } {
  const made: FakeConnection[] = [];
  const factory: ConnectionFactory = (host, options) => {
    const c = new FakeConnection(host, options.channelCapacity, server);
    made.push(c);
    return c;
  };
  return { factory, made };
}

/** Resolve when `predicate` holds, polling the event loop. */
export async function until(predicate: () => boolean, what = 'condition', ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
