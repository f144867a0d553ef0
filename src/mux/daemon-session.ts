import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { HostConfig } from '../config/host-config.js';
import { ConfigError, translateError } from '../errors.js';
import { agentSessionHost } from '../forward/agent.js';
import type { Logger } from '../logger.js';
import type { RemoteProcess, RemoteRunner } from '../pool/types.js';
import type { ConnectionHolder, HeldSession } from '../session/held-session.js';
import { type ChannelRunner, relayDaemonChannel } from './daemon-channel.js';
import { answerHello, otherVersionError } from './daemon-hello.js';
import { holdForClient } from './daemon-hold.js';
import { CreditSink, CreditSource } from './flow.js';
import { daemonForwards } from './forward-relay.js';
import type { FramedSocket } from './framed-socket.js';
import {
  type ControlMessage,
  type ControlResultMessage,
  type ErrorMessage,
  type Frame,
  FrameType,
  type OpenMessage,
} from './protocol.js';

/** What a connection may ask of the daemon beyond running a command. */
export interface DaemonHooks {
  readonly token: string;
  readonly version: string;
  readonly logger: Logger;
  /** `check` (connect and authenticate only) is needed for sessions that wait after authentication. */
  readonly runner: RemoteRunner & { check?(dest: HostConfig): Promise<void> } & Partial<ConnectionHolder>;
  /** How long a new connection may take to send its hello. */
  readonly helloTimeoutMs: number;
  /** False once `-O stop`/`-O exit` arrived: new sessions are refused. */
  accepting(): boolean;
  control(message: ControlMessage): ControlResultMessage;
  /** Runs after the reply to a control request went out. */
  afterControl(message: ControlMessage): void;
  sessionStarted(): void;
  sessionEnded(): void;
  /** A session asked for `host` (its ControlPersist may extend the daemon's idle time). */
  hostRequested(host: HostConfig): void;
  /**
   * While this session waits for its connection to `host`: what the connect has to say to the
   * client (the server's banner) goes to `notice`. Returns the function that stops listening.
   */
  opening?(host: HostConfig, notice: (text: string) => void): () => void;
}

export function errorMessage(err: unknown): ErrorMessage {
  const e = translateError(err);
  return { kind: e.kind, code: e.code, message: e.message };
}

/** The daemon's side of one client connection: hello, then one session or one control request. */
export class DaemonSession {
  readonly #conn: FramedSocket;
  readonly #hooks: DaemonHooks;
  readonly #log: Logger;
  #proc: RemoteProcess | undefined;
  #held: HeldSession | undefined;
  #stdin: CreditSource | undefined;
  #sinks = new Map<1 | 2, CreditSink>();
  #done = false;
  #started = false;
  /** Resolves true on PROCEED, false when the client goes away first. */
  #go: (proceed: boolean) => void = () => {};
  readonly #proceed = new Promise<boolean>((resolve) => {
    this.#go = resolve;
  });

  constructor(conn: FramedSocket, hooks: DaemonHooks) {
    this.#conn = conn;
    this.#hooks = hooks;
    this.#log = hooks.logger;
    // A connection that never completes the hello must not keep the daemon from idling out.
    const helloTimer = setTimeout(() => conn.destroy(), hooks.helloTimeoutMs);
    answerHello(conn, {
      token: hooks.token,
      version: hooks.version,
      logger: hooks.logger,
      fail: (err) => {
        clearTimeout(helloTimer);
        this.#fail(err);
      },
      authenticated: (sameVersion) => {
        clearTimeout(helloTimer);
        conn.onFrame((f) => (sameVersion ? this.#onRequest(f) : this.#onControlOnly(f)));
      },
    });
    conn.onClose((err) => {
      clearTimeout(helloTimer);
      this.#onClose(err);
    });
  }

  #fail(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#conn.end({ type: FrameType.Error, body: errorMessage(err) });
  }

  /** A client of another sshmux version: `-O check|exit|stop` work across versions, sessions do not. */
  #onControlOnly(frame: Frame): void {
    if (frame.type === FrameType.Control) this.#onRequest(frame);
    else if (!this.#done) {
      this.#done = true;
      this.#conn.end({ type: FrameType.Error, body: otherVersionError(this.#hooks.version) });
    }
  }

  #onRequest(frame: Frame): void {
    if (frame.type === FrameType.Control) {
      const result = this.#hooks.control(frame.body);
      this.#done = true;
      this.#conn.end({ type: FrameType.ControlResult, body: result });
      this.#hooks.afterControl(frame.body);
      return;
    }
    // Remote forwarding: one connection a listener offered, or a listener (src/mux/forward-relay.ts).
    if (frame.type === FrameType.Accept) {
      this.#done = true;
      daemonForwards.serveAccept(this.#conn, frame.body);
      return;
    }
    if (frame.type !== FrameType.Open && frame.type !== FrameType.Listen) {
      this.#fail(new ConfigError(`expected an open or control frame, got type ${frame.type}`));
      return;
    }
    if (!this.#hooks.accepting()) {
      this.#fail(new ConfigError('the sshmux daemon is stopping and takes no new sessions'));
      return;
    }
    if (frame.type === FrameType.Listen) {
      this.#done = true;
      void daemonForwards.serveListen(this.#conn, this.#hooks, frame.body);
      return;
    }
    this.#started = true;
    this.#hooks.sessionStarted();
    if (frame.body.kind === 'direct') {
      this.#conn.onFrame(undefined);
      this.#runChannel(frame.body);
      return;
    }
    this.#conn.onFrame((f) => this.#onSessionFrame(f));
    this.#run(frame.body).then(
      () => this.#end(),
      (err: unknown) => {
        // A client that went away was hung up on (no signal); its broken streams end up here too.
        if (!this.#conn.closed) this.#proc?.kill('TERM');
        this.#fail(err);
        this.#end();
      },
    );
  }

  /** A forwarding channel (-L, -D, -W): relayed by daemon-channel.ts. */
  #runChannel(open: OpenMessage): void {
    const run = async (): Promise<void> => {
      const host = hostConfigFrom(open.host);
      this.#hooks.hostRequested(host);
      await relayDaemonChannel(this.#conn, open, host, this.#hooks.runner as Partial<ChannelRunner>);
    };
    run().then(
      () => {
        this.#done = true;
        this.#end();
      },
      (err: unknown) => {
        this.#fail(err);
        this.#end();
      },
    );
  }

  async #run(open: OpenMessage): Promise<void> {
    const host = hostConfigFrom(open.host);
    this.#hooks.hostRequested(host);
    this.#log.debug({ host: `${host.user}@${host.hostname}:${host.port}` }, 'session');
    const stopNotices = this.#hooks.opening?.(host, (text) => {
      if (!this.#conn.closed) this.#conn.send({ type: FrameType.Notice, body: { text } });
    });
    try {
      await this.#open(open, host);
    } finally {
      stopNotices?.();
    }
    if (this.#held) return this.#runHeld(this.#held);
    const proc = this.#proc;
    if (proc === undefined) return;
    const send = (f: Frame): void => this.#conn.send(f);
    this.#stdin = new CreditSource(0, proc.stdin, send);
    const out = new CreditSink(1, send);
    const err = new CreditSink(2, send);
    this.#sinks.set(1, out);
    this.#sinks.set(2, err);
    proc.stdin.on('error', () => {
      // The remote stopped reading (closed channel): the exit status tells the story.
    });
    this.#conn.send({ type: FrameType.Opened, body: {} });
    const [exit] = await Promise.all([proc.exited, pipeline(proc.stdout, out), pipeline(proc.stderr, err)]);
    if (!this.#done) {
      this.#done = true;
      this.#conn.end({ type: FrameType.Exit, body: exit });
    }
  }

  /** Connect, authenticate and start the command: `#proc` is set unless the client left meanwhile. */
  async #open(open: OpenMessage, requested: HostConfig): Promise<void> {
    // A session forwarding its client's agent runs on a connection of its own (forward/agent.ts).
    const agent = open.agent === true;
    const host = agent ? agentSessionHost(requested, randomBytes(8).toString('hex')) : requested;
    if (open.waitAfterAuth === true) {
      // ssh runs LocalCommand after authentication and before the command starts: so do we.
      await this.#hooks.runner.check?.(host);
      if (this.#conn.closed) return;
      this.#conn.send({ type: FrameType.Authenticated, body: {} });
      if (!(await this.#proceed)) return;
    }
    const kind = open.kind ?? 'exec';
    if (kind === 'none') {
      this.#held = await holdForClient(this.#hooks.runner, host, this.#conn);
      return;
    }
    if (kind !== 'exec' && kind !== 'shell' && kind !== 'subsystem') {
      throw new ConfigError(`the client asked for an unknown session kind ${JSON.stringify(kind)}`);
    }
    const proc = await this.#hooks.runner.spawn(host, open.command, {
      kind,
      env: open.env,
      pty: open.pty,
      ...(agent && { agent: () => daemonForwards.offerAgent(this.#conn) }),
    });
    if (this.#conn.closed) {
      proc.hangUp();
      return;
    }
    this.#proc = proc;
  }

  /** -N: the connection stays held until the client leaves (#onClose) or the connection drops. */
  async #runHeld(held: HeldSession): Promise<void> {
    this.#conn.send({ type: FrameType.Opened, body: {} });
    const left = new Promise<void>((resolve) => this.#conn.onClose(() => resolve()));
    await Promise.race([held.exited, left]);
    await held.close();
    if (!this.#done) {
      this.#done = true;
      this.#conn.end({ type: FrameType.Exit, body: { code: null, signal: null } });
    }
  }

  #onSessionFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Data:
        if (frame.stream === 0) this.#stdin?.write(frame.data);
        return;
      case FrameType.Eof:
        if (frame.stream === 0) this.#proc?.stdin.end();
        return;
      case FrameType.Window:
        if (frame.stream !== 0) this.#sinks.get(frame.stream)?.grant(frame.credit);
        return;
      case FrameType.Signal:
        this.#proc?.kill(String(frame.body.signal));
        return;
      case FrameType.Resize: {
        const { rows, cols } = frame.body;
        if (Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0) {
          this.#proc?.resize({ rows, cols });
        }
        return;
      }
      case FrameType.Rekey:
        this.#proc?.rekey?.();
        return;
      case FrameType.Break:
        if (Number.isInteger(frame.body.ms) && frame.body.ms >= 0) this.#proc?.sendBreak?.(frame.body.ms);
        return;
      case FrameType.Proceed:
        this.#go(true);
        return;
      case FrameType.Refuse:
        daemonForwards.refuse(this.#conn, String(frame.body.id));
        return;
      default:
        this.#fail(new ConfigError(`unexpected frame type ${frame.type} during a session`));
    }
  }

  #onClose(err: Error | undefined): void {
    if (err) this.#log.debug({ err }, 'client connection error');
    this.#go(false);
    daemonForwards.dropOffers(this.#conn);
    if (!this.#done) {
      // The client went away mid-session: close the channel and send no signal, as an OpenSSH
      // master does for a mux client that went away (and as ssh itself does when it dies).
      this.#done = true;
      this.#proc?.hangUp();
      void this.#held?.close();
      for (const s of this.#sinks.values()) s.destroy();
    }
  }

  #end(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#hooks.sessionEnded();
  }
}

/** A HostConfig as the client sent it, checked for the fields the pool relies on. */
export function hostConfigFrom(raw: Record<string, unknown>): HostConfig {
  const ok =
    typeof raw === 'object' &&
    raw !== null &&
    !Array.isArray(raw) &&
    typeof raw.hostname === 'string' &&
    raw.hostname !== '' &&
    typeof raw.port === 'number' &&
    typeof raw.user === 'string' &&
    typeof raw.poolKey === 'string' &&
    Array.isArray(raw.identityFiles) &&
    Array.isArray(raw.userKnownHostsFiles);
  if (!ok) throw new ConfigError('the client sent an incomplete host configuration');
  // A ProxyCommand's environment, directory and stderr are the client's: the client runs it.
  if (raw.proxyCommand !== undefined || raw.knownHostsCommand !== undefined) {
    throw new ConfigError(
      'the daemon does not run ProxyCommand or KnownHostsCommand; the client connects in-process',
    );
  }
  if (raw.jumpHosts !== undefined && !Array.isArray(raw.jumpHosts)) {
    throw new ConfigError('the client sent an incomplete host configuration');
  }
  const jumpHosts = (raw.jumpHosts as Record<string, unknown>[] | undefined)?.map(hostConfigFrom);
  return Object.freeze({ ...raw, ...(jumpHosts && { jumpHosts }) }) as unknown as HostConfig;
}
