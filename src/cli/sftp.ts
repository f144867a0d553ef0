import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { cliLogger, silentLogger } from '../logger.js';
import { RateLimiter } from '../push/rate-limiter.js';
import type { SftpClient, SftpClientOptions } from '../transfer/sftp-client.js';
import { strerror } from '../transfer/strerror.js';
import type { CliContext } from './context.js';
import { openDirectServer } from './direct-server.js';
import { ScpArgError } from './scp-args.js';
import { parseOperand } from './scp-operand.js';
import { ScpProgress } from './scp-progress.js';
import { openSftpSession, printSshFailure } from './session-stream.js';
import { parseSftpArgs, type SftpArgs } from './sftp-args.js';
import { SftpShell } from './sftp-shell.js';
import { logVis, mprintfVis } from './terminal-vis.js';

/** Where `sftp dest` goes: `[user@]host[:path]` or `sftp://[user@]host[:port][/path]`. */
function parseDestination(dest: string): { user?: string; host: string; port?: number; path?: string } {
  const asScp = parseOperand(dest.startsWith('sftp://') ? `scp://${dest.slice(7)}` : dest);
  if (asScp.kind === 'remote') {
    const explicitPath = dest.startsWith('sftp://') ? asScp.path !== '.' : true;
    return {
      host: asScp.host,
      ...(asScp.user !== undefined && { user: asScp.user }),
      ...(asScp.port !== undefined && { port: asScp.port }),
      ...(explicitPath && { path: asScp.path }),
    };
  }
  const at = dest.lastIndexOf('@');
  return at < 0 ? { host: dest } : { user: dest.slice(0, at), host: dest.slice(at + 1) };
}

/**
 * `sshmux sftp`: OpenSSH 9.2 sftp's command line, batch mode (`-b file`, `-b -`) and its
 * prompt, over a session opened as `sshmux ssh` opens one. Exit 0, 1 when a batch command
 * failed (or the session ended with an error), 255 when the connection failed.
 */
export async function runSftpCli(argv: string[], ctx: CliContext): Promise<number> {
  let args: SftpArgs;
  try {
    args = parseSftpArgs(argv);
  } catch (err) {
    if (!(err instanceof ScpArgError)) throw err;
    ctx.stderr.write(err.message);
    return err.exitCode;
  }
  const logger =
    args.verbose > 0
      ? cliLogger({ verbosity: ctx.verbosity + args.verbose, json: ctx.logJson })
      : silentLogger();
  let input: Readable = process.stdin;
  if (args.batchFile !== undefined && args.batchFile !== '-') {
    const stream = createReadStream(args.batchFile);
    const opened = await new Promise<unknown>((resolve) => {
      stream.once('open', () => resolve(undefined));
      stream.once('error', resolve);
    });
    if (opened !== undefined) {
      ctx.stderr.write(`${strerror(opened)} (${args.batchFile}).\r\n`);
      return 255;
    }
    input = stream;
  }
  const options: SftpClientOptions = {
    ...(args.bufferLength !== undefined && { bufferLength: args.bufferLength }),
    ...(args.requests !== undefined && { requests: args.requests }),
  };
  const dest = args.destination === undefined ? undefined : parseDestination(args.destination);
  let client: SftpClient;
  let close: () => Promise<number>;
  try {
    if (args.direct !== undefined) {
      ({ client, close } = await openDirectServer(args.direct, options));
    } else {
      const session = await openSftpSession(
        args.sshOptions,
        { host: dest!.host, user: dest!.user, port: dest!.port ?? args.port },
        ctx.stderr,
        logger,
        options,
      );
      client = session.client;
      close = session.close;
      if (!args.quiet) ctx.stderr.write(`Connected to ${dest!.host}.\n`);
    }
  } catch (err) {
    printSshFailure(err, args.quiet, ctx.stderr);
    ctx.stderr.write('Connection closed\r\n');
    return 255;
  }
  // What sftp prints goes through mprintf (UTF-8 aware), its error() lines through log.c's strnvis.
  let pendingEcho: string | undefined;
  const flush = () => {
    if (pendingEcho !== undefined) ctx.stdout.write(mprintfVis(pendingEcho));
    pendingEcho = undefined;
  };
  const out = (text: string) => {
    flush();
    ctx.stdout.write(mprintfVis(text));
  };
  const refusal = (line: string) => ctx.stderr.write(logVis(`${line}\r\n`));
  const error = (line: string) => {
    flush();
    refusal(line);
  };
  const stdoutTty = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
  const shell = await SftpShell.start(
    client,
    {
      out,
      error,
      refusal,
      echo: (line) => {
        pendingEcho = `sftp> ${line}\n`;
      },
      flush,
    },
    {
      preserve: args.preserve,
      recursive: args.recursive,
      followLinks: false,
      limiter: args.limitBytesPerSecond === undefined ? undefined : new RateLimiter(args.limitBytesPerSecond),
      error,
      log: error,
      announce: (line) => out(`${line}\n`),
      progress: stdoutTty && !args.quiet ? ScpProgress.for(ctx.stdout as NodeJS.WriteStream) : undefined,
      say: out,
      quiet: args.quiet,
    },
  );
  let err = 0;
  try {
    err = await loop(shell, args, dest?.path, input, out);
  } finally {
    await close().catch(() => 255);
  }
  return err === 0 ? 0 : 1;
}

async function loop(
  shell: SftpShell,
  args: SftpArgs,
  startPath: string | undefined,
  input: Readable,
  out: (text: string) => void,
): Promise<number> {
  if (startPath !== undefined) {
    const dir = shell.absolute(startPath);
    const isDir = await shell.client.stat(Buffer.from(dir, 'latin1')).then(
      (a) => ((a.mode ?? 0) & 0o170000) === 0o040000,
      () => false,
    );
    if (isDir && args.localTarget === undefined) {
      if (!args.quiet) out(`Changing to: ${dir}\n`);
      if ((await shell.cd(dir)) !== 0) return -1;
    } else {
      return shell.get(shell.client, shell.copy, shell.absoluteGlob(startPath), args.localTarget);
    }
  }
  const batch = args.batchFile !== undefined;
  const interactive = !batch && process.stdin.isTTY === true;
  const lines = createInterface({
    input: input.setEncoding('latin1'),
    ...(interactive && { output: process.stdout, prompt: 'sftp> ', terminal: true }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    if (interactive) lines.prompt();
    for await (const line of lines) {
      const r = await shell.run(line, batch, !interactive);
      if (r !== 0) return r === 1 ? 0 : -1;
      if (interactive) lines.prompt();
    }
    if (interactive) out('\n');
    return 0;
  } finally {
    lines.close();
  }
}
