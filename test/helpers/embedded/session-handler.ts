import { type ChildProcess, spawn } from 'node:child_process';
import type { ServerChannel, Session } from 'ssh2';
import { sessionEnvironment, shellInvocation } from './local-shell.js';
import { serveSftp } from './sftp-server.js';

/** How long a command may outlive its channel's close before it is hung up. */
const HANGUP_GRACE_MS = 1000;

/** What a session needs to know about the server and the login it belongs to. */
export interface SessionContext {
  home: string;
  user: string;
  /** `client_ip client_port server_ip server_port`, as SSH_CONNECTION. */
  connection: string;
  acceptEnv: (name: string) => boolean;
  /** Every child process started, so the server can end them all when it stops. */
  children: Set<ChildProcess>;
}

/**
 * One session channel as sshd serves it: `env` (filtered by AcceptEnv), `exec` and `shell` by
 * the local shell, `signal` delivered to the child, exit status or exit signal reported, and the
 * `sftp` subsystem served from the local file system. A pty is refused (ssh prints "PTY
 * allocation request failed" and goes on, as with a server that has none); so are agent and
 * X11 forwarding and other subsystems: a request is answered, never accepted and ignored.
 */
export function serveSession(session: Session, ctx: SessionContext): void {
  const env = new Map<string, string>();
  let child: ChildProcess | undefined;

  session.on('env', (accept, reject, info) => {
    if (ctx.acceptEnv(info.key)) {
      env.set(info.key, info.val);
      accept?.();
    } else reject?.();
  });
  session.on('pty', (_accept, reject) => reject?.());
  session.on('signal', (accept, reject, info) => {
    const name = `SIG${info.name.replace(/^SIG/, '')}` as NodeJS.Signals;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return reject?.();
    try {
      child.kill(name);
      accept?.();
    } catch {
      reject?.();
    }
  });
  session.on('exec', (accept, _reject, info) => {
    child = run(accept(), info.command, ctx, env);
  });
  session.on('shell', (accept) => {
    child = run(accept(), undefined, ctx, env);
  });
  session.on('sftp', (accept) => {
    serveSftp(accept(), ctx.home);
  });
  session.on('subsystem', (_accept, reject) => reject());
}

function run(
  channel: ServerChannel,
  command: string | undefined,
  ctx: SessionContext,
  env: ReadonlyMap<string, string>,
): ChildProcess {
  const shell = shellInvocation(command);
  const child = spawn(shell.file, shell.args, {
    ...shell.options,
    cwd: ctx.home,
    env: sessionEnvironment({ home: ctx.home, user: ctx.user, connection: ctx.connection, requested: env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  ctx.children.add(child);
  // A reader that goes away early is normal (`head -c 5`): its EPIPE is no server error.
  child.stdin!.on('error', () => {});
  channel.on('error', () => {});
  channel.pipe(child.stdin!);
  child.stdout!.pipe(channel, { end: false });
  child.stderr!.pipe(channel.stderr, { end: false });

  let outputs = 2;
  let status: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const closing = deferClose(channel, () => status !== undefined);
  // Exit status goes after all output, as sshd sends it: only when both pipes have ended.
  const finish = (): void => {
    if (outputs > 0 || !status) return;
    closing.exit(status);
  };
  child.stdout!.on('end', () => {
    outputs--;
    finish();
  });
  child.stderr!.on('end', () => {
    outputs--;
    finish();
  });
  child.on('error', (err) => {
    channel.stderr.write(`${shell.file}: ${err.message}\n`);
    status = { code: 127, signal: null };
    outputs = 0;
    finish();
  });
  child.on('exit', (code, signal) => {
    ctx.children.delete(child);
    status = { code, signal };
    finish();
  });
  // The client closed the channel while the command runs (often right after a signal): give
  // the command a moment to die of that signal, then hang it up rather than leave a process
  // behind on the user's machine.
  channel.on('close', () => {
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(process.platform === 'win32' ? 'SIGTERM' : 'SIGHUP');
      }
    }, HANGUP_GRACE_MS).unref();
  });
  return child;
}

interface ChannelInternals {
  outgoing: { id: number; state: string };
  _client: {
    _protocol: {
      exitStatus(id: number, status: number): void;
      exitSignal(id: number, name: string, coreDumped: boolean, msg: string): void;
    };
  };
}

/**
 * sshd answers a client's CHANNEL_CLOSE only once the command is reaped, so the exit status or
 * signal still reaches a client that closed first (ssh2's `kill()` sends the signal, then
 * closes). ssh2 answers at once, and its `exit()` refuses a channel that is no longer writable:
 * hold the close back until the command has ended and send the status through the protocol.
 */
function deferClose(
  channel: ServerChannel,
  ended: () => boolean,
): { exit(status: { code: number | null; signal: NodeJS.Signals | null }): void } {
  const inner = channel as unknown as ChannelInternals;
  const realClose = channel.close.bind(channel);
  let wanted = false;
  let done = false;
  (channel as { close: () => void }).close = () => {
    if (ended()) realClose();
    else wanted = true;
  };
  return {
    exit(status) {
      if (done) return;
      done = true;
      if (inner.outgoing.state === 'open' || inner.outgoing.state === 'eof') {
        const proto = inner._client._protocol;
        if (status.signal) proto.exitSignal(inner.outgoing.id, status.signal.replace(/^SIG/, ''), false, '');
        else proto.exitStatus(inner.outgoing.id, status.code ?? 255);
      }
      if (wanted) realClose();
      else channel.end();
    },
  };
}
